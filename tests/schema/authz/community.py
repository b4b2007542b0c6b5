"""The matrix for community fields: areas, residents, households, contacts, hazard points,
reports, the roster import and the mode switch."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.shapes import rect, square

from .matrix import (
    ABSENT,
    EMPTY,
    FORBID,
    MASKED,
    NOTFOUND,
    NULL,
    OWN,
    UNAUTH,
    Entry,
    all_of,
    community_admin_refusals,
    done,
    grid_staff_refusals,
    payload,
    sees,
    shows,
)
from .world import A_POINT


def _totp_code(w, *, confirmed: bool) -> str:
    """The grid worker's authenticator app (begun, or set up) and its current code."""
    import pyotp
    from django.utils import timezone

    from community.models import TotpDevice

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TotpDevice.objects.update_or_create(user=w.users["worker_a1"], defaults={
        "secret": secret, "confirmed_at": timezone.now() if confirmed else None, "last_counter": 0})
    return pyotp.TOTP(secret).now()


def _pending_phone_code(w) -> dict:
    """The resident asked for +8613700000099 as their SMS number; 123456 was texted to it."""
    from datetime import timedelta

    from django.utils import timezone

    from community.models import PhoneVerification
    from community.phone import _hash

    phone = "+8613700000099"
    PhoneVerification.objects.get_or_create(
        resident=w.resident_row, phone=phone,
        defaults={"code_hash": _hash(w.resident_row, phone, "123456"), "expires_at": timezone.now() + timedelta(minutes=5)})
    return {"phone": phone, "code": "123456"}

HERE = {"latitude": A_POINT[0], "longitude": A_POINT[1], "datum": "WGS84"}
SQUARE_A1 = square(*A_POINT)
BLOCK_A = rect(30.269, 120.149, 30.277, 120.157)

AREA = """query Area($id: ID!) {
  area(id: $id) { id name kind mode effectiveMode parent { id name } ancestors { id name } }
}"""
HAZARD_POINT = """query HazardPoint($id: ID!) {
  hazardPoint(id: $id) { id name address description kind severity isOverdue location { latitude longitude }
    inspections(first: 5) { findings inspectorName } grid { id name } }
}"""
MOVE_HAZARD = """mutation MoveHazardPoint($id: ID!, $gridId: ID) {
  updateHazardPoint(id: $id, gridId: $gridId) { errors { field code message } hazardPoint { id name grid { id } } }
}"""
HOUSEHOLD_DEEP = """query HouseholdDeep($id: ID!) {
  household(id: $id) { id members { displayName phone careNotes personalDataVisible vulnerability { isVulnerable }
    emergencyContacts { name phone } } }
}"""
REPORT = """query Report($id: ID!) {
  report(id: $id) { id kind status description reporterName reporterPhone isMine location { latitude longitude }
    grid { id name } }
}"""


def roster() -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["姓名", "手机号", "住址", "网格"], ["导入居民", "13800138071", "甲社区9幢", "甲一网格"]])
    return SimpleUploadedFile("roster.csv", buffer.getvalue().encode("utf-8-sig"), content_type="text/csv")


def _contact_refusals() -> dict:
    """A resident's contacts: the resident and the staff of their grid; not their household."""
    refusals = grid_staff_refusals(neighbour=FORBID, spouse=FORBID)
    del refusals["resident"]
    return refusals


def _grid(w):
    return {"gridId": w.gid("grid_a1")}


AREAS = [
    Entry("Query.me", "community/Me",
          allowed={"resident": shows("13900000001"), "worker": sees("grid_a1")},
          refused={"anonymous": NULL, "neighbour": ABSENT, "worker_other_community": ABSENT},
          secrets=("resident",)),
    Entry("Query.area", AREA, lambda w: {"id": w.gid("grid_a1")},
          allowed={"resident": sees("grid_a1"), "worker": sees("grid_a1"), "admin": sees("grid_a1"),
                   "commander": sees("grid_a1")},
          refused={"anonymous": UNAUTH, "stranger": NULL, "other_resident": NULL, "worker_other_grid": NULL,
                   "worker_other_community": NULL, "admin_other": NULL},
          secrets=("grid",)),
    Entry("Query.areas", "community/MyAreas", lambda w: {"kind": "GRID", "first": 50},
          allowed={"resident": sees("grid_a1"), "worker": sees("grid_a1"), "admin": sees("grid_a1", "grid_a2")},
          refused={"anonymous": UNAUTH, "stranger": EMPTY, "other_resident": ABSENT, "worker_other_grid": ABSENT,
                   "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("grid",)),
    Entry("Query.areaAt", "community/AreaAt", lambda w: {"location": HERE},
          allowed={"resident": sees("grid_a1"), "worker": sees("grid_a1"), "admin": sees("grid_a1"),
                   "commander": sees("grid_a1")},
          # Others learn only the nearest area above it that they may see (a community, a district).
          refused={"anonymous": UNAUTH, "stranger": NULL, "other_resident": ABSENT, "worker_other_grid": ABSENT,
                   "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("grid",)),
    Entry("Mutation.setAreaBoundary", "community/SetAreaBoundary",
          lambda w: {"areaId": w.gid("grid_a1"), "geoJson": SQUARE_A1},
          allowed={"admin": done("area"), "commander": done("area")},
          # A grid is drawn from above: not by its own grid worker.
          refused=grid_staff_refusals(worker=FORBID, stranger=FORBID)),
    Entry("Mutation.setAreaBoundary", "community/SetAreaBoundary",
          lambda w: {"areaId": w.gid("com_a"), "geoJson": BLOCK_A}, variant="(a community)",
          allowed={"commander": done("area")},
          refused={"anonymous": UNAUTH, "admin": FORBID, "admin_other": FORBID, "worker": FORBID}),
    Entry("Mutation.switchAreaMode", "community/SwitchAreaMode",
          lambda w: {"areaId": w.gid("com_a"), "mode": "NORMAL", "reason": "演练结束"},
          allowed={"admin": done("switch"), "commander": done("switch")},
          refused=community_admin_refusals(worker_other_grid=FORBID),
          secrets=("switch",)),
    Entry("Mutation.switchAreaMode", "community/SwitchAreaMode",
          lambda w: {"areaId": w.gid("district"), "mode": "STANDBY", "reason": "台风"}, variant="(the area above theirs)",
          allowed={"commander": done("switch")},
          refused={"anonymous": UNAUTH, "admin": FORBID, "worker": FORBID}),
    Entry("Mutation.switchAreaMode", "community/SwitchAreaMode",
          lambda w: {"areaId": w.gid("grid_a1"), "mode": "EMERGENCY", "reason": "积水"}, variant="(a grid)",
          allowed={"admin": done("switch")},
          refused={"anonymous": UNAUTH, "worker": FORBID, "resident": FORBID, "admin_other": FORBID}),
]

RESIDENTS = [
    Entry("Query.residents", "community/Residents", lambda w: {"areaId": w.gid("grid_a1")}, variant="(grid A1)",
          allowed={"worker": shows("resident", "elder"), "admin": shows("resident", "elder")},
          refused={"anonymous": UNAUTH, "resident": NOTFOUND, "volunteer": NOTFOUND, "worker_other_grid": NOTFOUND,
                   "worker_other_community": NOTFOUND, "admin_other": NOTFOUND, "commander": MASKED},
          secrets=("resident", "elder", "neighbour")),
    Entry("Query.residents", "community/Residents", lambda w: {"first": 100}, variant="(all areas)",
          allowed={"worker": sees("resident_row", "elder_row"), "commander": sees("elder_row")},
          refused={"anonymous": UNAUTH, "stranger": EMPTY, "neighbour": ABSENT, "other_resident": ABSENT,
                   "volunteer": EMPTY, "worker_other_grid": EMPTY, "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("resident", "elder")),
    Entry("Query.resident", "community/Resident", lambda w: {"id": w.gid("resident_row")},
          allowed={"resident": shows("13900000001", "甲社区1幢101室"), "worker": shows("需要助行器-甲", "13900000001"),
                   "admin": shows("需要助行器-甲")},
          refused={"anonymous": UNAUTH, "neighbour": NULL, "spouse": NULL, "volunteer": NULL, "worker_other_grid": NULL,
                   "worker_other_community": NULL, "admin_other": NULL, "commander": MASKED},
          secrets=("resident",)),
    Entry("Query.myResidentProfile", "community/MyResidentProfile",
          allowed={"resident": shows("13900000001", "王强", "李建国")},
          refused={"anonymous": UNAUTH, "stranger": NULL, "neighbour": ABSENT, "worker": NULL},
          secrets=("resident", "household")),
    Entry("Query.household", "community/Household", lambda w: {"id": w.gid("home")},
          allowed={"resident": shows("李建国", "甲社区1幢101室"), "spouse": shows("王秀英"), "worker": shows("甲社区1幢101室"),
                   "admin": shows("王秀英")},
          refused={"anonymous": UNAUTH, "neighbour": NULL, "other_resident": NULL, "volunteer": NULL,
                   "worker_other_grid": NULL, "worker_other_community": NULL, "admin_other": NULL, "commander": MASKED},
          secrets=("household",)),
    Entry("Query.household", HOUSEHOLD_DEEP, lambda w: {"id": w.gid("home")}, variant="(the other members' details)",
          allowed={"worker": shows("resident_private")},
          refused={"spouse": MASKED, "commander": MASKED}, secrets=("resident_private",)),
    Entry("Query.nearbyResidents", "community/NearbyResidents",
          lambda w: {"location": HERE, "radiusM": 1500.0, "first": 50},
          allowed={"worker": shows("13900000001"), "admin": shows("13900000031")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_grid": ABSENT,
                   "worker_other_community": EMPTY, "admin_other": EMPTY, "commander": MASKED},
          secrets=("resident", "elder", "neighbour")),
    Entry("Mutation.registerMyResidentProfile", "community/RegisterMyResidentProfile",
          lambda w: {"input": {"displayName": "新居民"}, "location": HERE},
          allowed={"stranger": done("resident")},
          refused={"anonymous": UNAUTH}),
    Entry("Mutation.registerMyResidentProfile", "community/RegisterMyResidentProfile",
          lambda w: {"input": {"displayName": "冒领", "phone": "+8613900000031"}, "location": HERE},
          variant="(claiming the staff-made profile of someone else's phone)",
          # Their own profile is made (with the number they logged in with; the other is only
          # texted a code): nothing says whether anyone holds that number, nothing is claimed.
          refused={"stranger": OWN, "worker_other_community": OWN},
          keeps=lambda w: [w.rows["elder_row"]], secrets=("elder",)),
    Entry("Mutation.updateMyResidentProfile", "community/UpdateMyResidentProfile",
          lambda w: {"input": {"address": "甲社区1幢102室"}},
          allowed={"resident": done("resident")},
          refused={"anonymous": UNAUTH, "stranger": payload("NOT_FOUND"), "neighbour": OWN},
          keeps=lambda w: [w.resident_row], secrets=("resident",)),
    Entry("Mutation.beginTotpEnrolment", "community/BeginTotpEnrolment",
          allowed={"worker": done("otpauthUri")},
          refused={"anonymous": UNAUTH, "resident": payload("INVALID"), "worker_other_community": OWN},
          keeps=lambda w: [w.users["worker_a1"]]),
    Entry("Mutation.confirmTotpEnrolment", "community/ConfirmTotpEnrolment", lambda w: {"code": _totp_code(w, confirmed=False)},
          allowed={"worker": done("recoveryCodes")},
          refused={"anonymous": UNAUTH, "resident": payload("NOT_FOUND"), "worker_other_community": payload("NOT_FOUND")}),
    Entry("Mutation.regenerateRecoveryCodes", "community/RegenerateRecoveryCodes", lambda w: {"otp": _totp_code(w, confirmed=True)},
          allowed={"worker": done("recoveryCodes")},
          refused={"anonymous": UNAUTH, "resident": payload("NOT_FOUND"), "worker_other_community": payload("NOT_FOUND")}),
    Entry("Mutation.confirmMyPhone", "community/ConfirmMyPhone", lambda w: _pending_phone_code(w),
          allowed={"resident": done("resident")},
          refused={"anonymous": UNAUTH, "stranger": payload("NOT_FOUND"), "neighbour": payload("CODE_EXPIRED")},
          keeps=lambda w: [w.resident_row], secrets=("resident",)),
    Entry("Mutation.registerResident", "community/RegisterResident",
          lambda w: {"input": {"displayName": "新登记老人", "phone": "+8613900000099", "careNotes": "新备注"}, **_grid(w),
                     "legalBasis": "STATUTORY_DUTY"},
          allowed={"worker": done("resident"), "admin": done("resident")},
          refused=grid_staff_refusals()),
    Entry("Mutation.registerResident", "community/RegisterResident",
          lambda w: {"input": {"displayName": "新登记老人"}, "location": HERE}, variant="(grid from a place in A1)",
          allowed={"worker": done("resident")},
          refused={"anonymous": UNAUTH, "worker_other_grid": FORBID, "worker_other_community": FORBID,
                   "admin_other": FORBID}),
    Entry("Mutation.registerResident", "community/RegisterResident",
          lambda w: {"input": {"displayName": "新登记老人"}, **_grid(w), "householdId": w.gid("home_b")},
          variant="(into another community's household)",
          refused={"worker": payload("INVALID", "FORBIDDEN", "NOT_FOUND")}, secrets=("other",)),
    Entry("Mutation.updateResident", "community/UpdateResident",
          lambda w: {"id": w.gid("resident_row"), "input": {"careNotes": "改过的备注"}, "legalBasis": "STATUTORY_DUTY"},
          allowed={"worker": done("resident"), "admin": done("resident")},
          refused=grid_staff_refusals(neighbour=FORBID, spouse=FORBID),
          secrets=("resident",)),
    Entry("Mutation.updateResident", "community/UpdateResident",
          lambda w: {"id": w.gid("resident_row"), "gridId": w.gid("grid_b1")}, variant="(moving them to another community)",
          refused={"worker": FORBID, "admin": FORBID}, secrets=("resident",)),
    Entry("Mutation.updateResident", "community/UpdateResident",
          lambda w: {"id": w.gid("resident_row"), "householdId": w.gid("home_b")},
          variant="(into another community's household)",
          refused={"worker": payload("INVALID", "FORBIDDEN", "NOT_FOUND")}, secrets=("resident", "other")),
    Entry("Mutation.createHousehold", "community/CreateHousehold",
          lambda w: {**_grid(w), "label": "9幢901", "address": "甲社区9幢901"},
          allowed={"worker": done("household"), "admin": done("household")},
          refused=grid_staff_refusals()),
    Entry("Mutation.addEmergencyContact", "community/AddEmergencyContact",
          lambda w: {"residentId": w.gid("resident_row"), "name": "新联系人", "phone": "+8613700000777"},
          allowed={"resident": done("contact"), "worker": done("contact")},
          refused=_contact_refusals(),
          secrets=("resident",)),
    Entry("Mutation.addEmergencyContact", "community/AddEmergencyContact",
          lambda w: {"residentId": w.gid("resident_row"), "linkedResidentId": w.gid("other_row")},
          variant="(linking a resident of another community)",
          refused={"worker": FORBID, "resident": FORBID}, secrets=("other",)),
    Entry("Mutation.removeEmergencyContact", "community/RemoveEmergencyContact", lambda w: {"id": w.gid("contact")},
          allowed={"resident": done("resident"), "worker": done("resident")},
          refused=_contact_refusals(),
          secrets=("resident",)),
    Entry("Mutation.importResidents", "community/ImportResidents",
          lambda w: {"communityId": w.gid("com_a"), "dryRun": True}, upload=roster,
          allowed={"admin": done("report")},
          refused=community_admin_refusals()),
]

HAZARDS = [
    Entry("Query.hazardPoint", HAZARD_POINT, lambda w: {"id": w.gid("hazard")},
          allowed={"worker": shows("hazard"), "admin": shows("hazard"), "commander": shows("hazard")},
          refused={"anonymous": UNAUTH, "resident": NULL, "volunteer": NULL, "worker_other_grid": NULL,
                   "worker_other_community": NULL, "admin_other": NULL},
          secrets=("hazard",)),
    Entry("Query.hazardPoints", "community/HazardPoints", lambda w: {"areaId": w.gid("grid_a1")}, variant="(grid A1)",
          allowed={"worker": sees("hazard"), "commander": sees("hazard")},
          refused={"anonymous": UNAUTH, "resident": NOTFOUND, "volunteer": NOTFOUND, "worker_other_grid": NOTFOUND,
                   "worker_other_community": NOTFOUND, "admin_other": NOTFOUND},
          secrets=("hazard",)),
    Entry("Query.hazardPoints", "community/HazardPoints", variant="(all areas)",
          allowed={"worker": sees("hazard"), "admin": sees("hazard")},
          refused={"anonymous": UNAUTH, "resident": EMPTY, "volunteer": EMPTY, "worker_other_grid": EMPTY,
                   "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("hazard",)),
    Entry("Query.overdueInspections", "community/OverdueInspections", lambda w: {"areaId": w.gid("grid_a1")},
          variant="(grid A1)",
          allowed={"worker": all_of(sees("hazard"), shows("积水30厘米-甲"))},
          refused={"anonymous": UNAUTH, "resident": NOTFOUND, "volunteer": NOTFOUND, "worker_other_grid": NOTFOUND,
                   "worker_other_community": NOTFOUND, "admin_other": NOTFOUND},
          secrets=("hazard",)),
    Entry("Query.overdueInspections", "community/OverdueInspections", variant="(all areas)",
          allowed={"worker": sees("hazard")},
          refused={"anonymous": UNAUTH, "resident": EMPTY, "worker_other_grid": EMPTY,
                   "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("hazard",)),
    Entry("Query.nearbyHazardPoints", "community/NearbyHazardPoints",
          lambda w: {"location": HERE, "radiusM": 1500.0, "first": 20},
          allowed={"worker": sees("hazard"), "commander": sees("hazard")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_grid": EMPTY,
                   "worker_other_community": EMPTY, "admin_other": EMPTY},
          secrets=("hazard",)),
    Entry("Mutation.createHazardPoint", "community/CreateHazardPoint",
          lambda w: {"input": {"name": "新隐患", "kind": "GAS_LINE", "severity": "HIGH", "inspectionIntervalDays": 30},
                     "location": HERE, **_grid(w)},
          allowed={"worker": done("hazardPoint"), "admin": done("hazardPoint")},
          refused=grid_staff_refusals()),
    Entry("Mutation.createHazardPoint", "community/CreateHazardPoint",
          lambda w: {"input": {"name": "新隐患", "kind": "GAS_LINE", "severity": "LOW"}, "location": HERE},
          variant="(grid from the place)",
          allowed={"worker": done("hazardPoint")},
          refused={"anonymous": UNAUTH, "worker_other_grid": FORBID, "worker_other_community": FORBID}),
    Entry("Mutation.updateHazardPoint", "community/UpdateHazardPoint",
          lambda w: {"id": w.gid("hazard"), "input": {"severity": "CRITICAL"}},
          allowed={"worker": done("hazardPoint"), "admin": done("hazardPoint")},
          refused=grid_staff_refusals(), secrets=("hazard",)),
    Entry("Mutation.updateHazardPoint", MOVE_HAZARD,
          lambda w: {"id": w.gid("hazard"), "gridId": w.gid("grid_b1")}, variant="(moving it to another community)",
          refused={"worker": FORBID, "admin": FORBID, "worker_other_community": FORBID}, secrets=("hazard",)),
    Entry("Mutation.updateHazardPoint", MOVE_HAZARD,
          lambda w: {"id": w.gid("hazard"), "gridId": w.gid("grid_a2")}, variant="(moving it to another grid)",
          allowed={"admin": done("hazardPoint")},
          refused={"worker": FORBID, "worker_other_grid": FORBID}, secrets=("hazard",)),
    Entry("Mutation.recordInspection", "community/RecordInspection",
          lambda w: {"hazardPointId": w.gid("hazard"), "result": "OK"},
          allowed={"worker": done("inspection"), "admin": done("inspection")},
          refused=grid_staff_refusals(), secrets=("hazard",)),
]

REPORTS = [
    Entry("Query.report", REPORT, lambda w: {"id": w.gid("report")},
          allowed={"resident": shows("report"), "worker": shows("report"), "admin": shows("report")},
          refused={"anonymous": UNAUTH, "neighbour": NULL, "spouse": NULL, "volunteer": NULL, "worker_other_grid": NULL,
                   "worker_other_community": NULL, "admin_other": NULL, "commander": MASKED},
          secrets=("report",)),
    Entry("Query.reports", "community/Reports", lambda w: {"areaId": w.gid("grid_a1")}, variant="(grid A1)",
          allowed={"worker": shows("report"), "admin": sees("report")},
          refused={"anonymous": UNAUTH, "resident": NOTFOUND, "volunteer": NOTFOUND, "worker_other_grid": NOTFOUND,
                   "worker_other_community": NOTFOUND, "admin_other": NOTFOUND, "commander": MASKED},
          secrets=("report",)),
    Entry("Query.reports", "community/Reports", variant="(all areas)",
          allowed={"worker": sees("report")},
          refused={"anonymous": UNAUTH, "resident": EMPTY, "neighbour": EMPTY, "worker_other_grid": EMPTY,
                   "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("report",)),
    Entry("Query.myReports", "community/MyReports",
          allowed={"resident": sees("report")},
          refused={"anonymous": UNAUTH, "neighbour": EMPTY, "worker": EMPTY},
          secrets=("report",)),
    Entry("Mutation.submitReport", "community/SubmitReport",
          lambda w: {"kind": "HAZARD", "description": "路灯不亮", "location": HERE},
          allowed={"resident": done("report")},
          refused={"anonymous": UNAUTH, "stranger": OWN},
          keeps=lambda w: [w.report], secrets=("report",)),
    Entry("Mutation.setReportStatus", "community/SetReportStatus",
          lambda w: {"reportId": w.gid("report"), "status": "ACKNOWLEDGED", "note": "已收到"},
          allowed={"worker": done("report"), "admin": done("report")},
          refused=grid_staff_refusals(), secrets=("report",)),
]

ENTRIES = AREAS + RESIDENTS + HAZARDS + REPORTS
