"""The matrix for volunteers, Party members, service activities and service hours."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .matrix import (
    ABSENT,
    EMPTY,
    FORBID,
    MASKED,
    NULL,
    OWN,
    UNAUTH,
    Entry,
    community_admin_refusals,
    done,
    payload,
    sees,
    shows,
)
from .world import A_POINT

HERE = {"latitude": A_POINT[0], "longitude": A_POINT[1], "datum": "WGS84"}
NOT_A_VOLUNTEER = payload("NOT_A_VOLUNTEER")

ACTIVITY_WITH_CODE = """query ActivityCode($communityId: ID) {
  serviceActivities(communityId: $communityId) { edges { node { id title hasCheckinCode checkinCode } } }
}"""


def _soon(hours: float) -> str:
    return (timezone.now() + dt.timedelta(hours=hours)).isoformat()


def _staff_on_volunteer(**more) -> dict:
    refused = {"anonymous": UNAUTH, "other_volunteer": FORBID, "resident": FORBID, "worker_other_grid": FORBID,
               "worker_other_community": FORBID, "admin_other": FORBID}
    refused.update(more)
    return refused


VOLUNTEERS = [
    Entry("Query.myVolunteerProfile", "volunteers/MyVolunteerProfile",
          allowed={"volunteer": shows("volunteer")},
          refused={"anonymous": NULL, "resident": NULL, "other_volunteer": ABSENT, "worker": NULL},
          secrets=("volunteer",)),
    Entry("Query.volunteers", "volunteers/Volunteers", lambda w: {"areaId": w.gid("grid_a1"), "first": 50},
          variant="(grid A1)",
          allowed={"worker": shows("13700000101"), "admin": sees("volunteer_row", "pending_row")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "party_member": FORBID,
                   "worker_other_grid": EMPTY, "worker_other_community": EMPTY, "admin_other": EMPTY, "commander": MASKED},
          secrets=("volunteer", "pending", "suspended")),
    Entry("Query.volunteers", "volunteers/Volunteers", lambda w: {"first": 50}, variant="(all areas)",
          allowed={"worker": sees("volunteer_row")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "worker_other_grid": EMPTY, "worker_other_community": ABSENT,
                   "admin_other": ABSENT},
          secrets=("volunteer", "pending", "suspended")),
    Entry("Query.nearbyVolunteers", "volunteers/NearbyVolunteers",
          lambda w: {"location": HERE, "radiusM": 1000, "availableOnly": False},
          allowed={"worker": sees("volunteer_row"), "admin": sees("volunteer_row")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_grid": EMPTY,
                   "worker_other_community": EMPTY, "admin_other": EMPTY},
          secrets=("volunteer",)),
    Entry("Mutation.signUpAsVolunteer", "volunteers/SignUpAsVolunteer",
          lambda w: {"areaId": w.gid("grid_a1"), "profile": {"displayName": "新志愿者", "homeLocation": HERE}},
          allowed={"stranger": done("volunteer"), "resident": done("volunteer")},
          refused={"anonymous": UNAUTH, "neighbour": OWN},
          keeps=lambda w: [w.volunteer_row], secrets=("volunteer",)),
    Entry("Mutation.updateMyVolunteerProfile", "volunteers/UpdateMyVolunteerProfile",
          lambda w: {"profile": {"maxConcurrentTasks": 2}},
          allowed={"volunteer": done("volunteer")},
          refused={"anonymous": UNAUTH, "resident": NOT_A_VOLUNTEER, "other_volunteer": OWN},
          keeps=lambda w: [w.volunteer_row], secrets=("volunteer",)),
    Entry("Mutation.setOnDuty", "volunteers/SetOnDuty", lambda w: {"until": _soon(2)},
          allowed={"volunteer": done("volunteer")},
          refused={"anonymous": UNAUTH, "resident": NOT_A_VOLUNTEER, "other_volunteer": OWN},
          keeps=lambda w: [w.volunteer_row], secrets=("volunteer",)),
    Entry("Mutation.setTemporaryLocation", "volunteers/SetTemporaryLocation",
          lambda w: {"location": HERE, "until": _soon(2)},
          allowed={"volunteer": done("volunteer")},
          refused={"anonymous": UNAUTH, "resident": NOT_A_VOLUNTEER, "other_volunteer": OWN},
          keeps=lambda w: [w.volunteer_row], secrets=("volunteer",)),
    Entry("Mutation.approveVolunteer", "volunteers/ApproveVolunteer", lambda w: {"volunteerId": w.gid("pending_row")},
          allowed={"worker": done("volunteer"), "admin": done("volunteer")},
          refused=_staff_on_volunteer(pending_volunteer=FORBID, volunteer=FORBID),
          secrets=("pending",)),
    Entry("Mutation.suspendVolunteer", "volunteers/SuspendVolunteer",
          lambda w: {"volunteerId": w.gid("volunteer_row"), "reason": "未按时到岗"},
          allowed={"worker": done("volunteer"), "admin": done("volunteer")},
          refused=_staff_on_volunteer(volunteer=FORBID),
          secrets=("volunteer",)),
    Entry("Mutation.reinstateVolunteer", "volunteers/ReinstateVolunteer", lambda w: {"volunteerId": w.gid("suspended_row")},
          allowed={"worker": done("volunteer"), "admin": done("volunteer")},
          refused=_staff_on_volunteer(suspended_volunteer=FORBID),
          secrets=("suspended",)),
]

PARTY = [
    Entry("Query.myPartyMemberRegistration", "volunteers/MyPartyMemberRegistration",
          allowed={"party_member": shows("甲社区党员楼8号")},
          refused={"anonymous": NULL, "stranger": NULL, "party_pending": ABSENT, "admin": NULL},
          secrets=("party",)),
    Entry("Query.partyMemberRegistrations", "volunteers/PartyMemberRegistrations",
          lambda w: {"communityId": w.gid("com_a")}, variant="(community A)",
          allowed={"admin": shows("party", "party_pending")},
          refused={"anonymous": UNAUTH, "party_member": FORBID, "resident": FORBID, "worker": EMPTY,
                   "worker_other_community": EMPTY, "admin_other": EMPTY, "commander": MASKED},
          secrets=("party", "party_pending")),
    Entry("Query.partyMemberRegistrations", "volunteers/PartyMemberRegistrations", variant="(all areas)",
          allowed={"admin": sees("party_row"), "commander": sees("party_row")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "admin_other": ABSENT},
          secrets=("party", "party_pending")),
    Entry("Mutation.registerAsPartyMember", "volunteers/RegisterAsPartyMember",
          lambda w: {"input": {"communityId": w.gid("com_a"), "name": "新党员", "workUnit": "区医院", "partyBranch": "第二支部",
                               "homeAddress": "甲社区10幢"}},
          allowed={"stranger": done("registration")},
          refused={"anonymous": UNAUTH, "resident": OWN},
          keeps=lambda w: [w.party_row], secrets=("party",)),
    Entry("Mutation.confirmPartyMemberRegistration", "volunteers/ConfirmPartyMemberRegistration",
          lambda w: {"registrationId": w.gid("party_pending_row")},
          allowed={"admin": done("registration"), "commander": done("registration")},
          refused={"anonymous": UNAUTH, "party_pending": FORBID, "party_member": FORBID, "worker": FORBID,
                   "worker_other_community": FORBID, "admin_other": FORBID},
          secrets=("party_pending",)),
    Entry("Mutation.rejectPartyMemberRegistration", "volunteers/RejectPartyMemberRegistration",
          lambda w: {"registrationId": w.gid("party_pending_row"), "reason": "不在本社区居住"},
          allowed={"admin": done("registration")},
          refused={"anonymous": UNAUTH, "party_pending": FORBID, "party_member": FORBID, "worker": FORBID,
                   "admin_other": FORBID},
          secrets=("party_pending",)),
    Entry("Mutation.endPartyMemberRegistration", "volunteers/EndPartyMemberRegistration",
          lambda w: {"registrationId": w.gid("party_row"), "reason": "搬家"},
          allowed={"party_member": done("registration"), "admin": done("registration")},
          refused={"anonymous": UNAUTH, "party_pending": FORBID, "stranger": FORBID, "worker": FORBID,
                   "admin_other": FORBID},
          secrets=("party",)),
]

ACTIVITIES = [
    Entry("Query.serviceActivities", "volunteers/ServiceActivities", lambda w: {"communityId": w.gid("com_a")},
          allowed={"volunteer": sees("activity"), "resident": sees("activity"), "admin": sees("activity")},
          refused={"anonymous": UNAUTH, "stranger": EMPTY, "other_resident": EMPTY, "worker_other_community": EMPTY,
                   "admin_other": EMPTY},
          secrets=("activity",)),
    Entry("Query.serviceActivities", ACTIVITY_WITH_CODE, lambda w: {"communityId": w.gid("com_a")},
          variant="(the on-site check-in code)",
          allowed={"admin": shows("QZ7KXW")},
          refused={"volunteer": MASKED, "party_member": MASKED, "worker": MASKED, "resident": MASKED},
          secrets=("activity",)),
    Entry("Mutation.publishServiceActivity", "volunteers/PublishServiceActivity",
          lambda w: {"input": {"communityId": w.gid("com_a"), "title": "消防演练宣讲", "startsAt": _soon(24),
                               "endsAt": _soon(26), "capacity": 20, "location": HERE}},
          allowed={"admin": done("activity"), "commander": done("activity")},
          refused=community_admin_refusals(party_member=FORBID)),
    Entry("Mutation.cancelServiceActivity", "volunteers/CancelServiceActivity", lambda w: {"activityId": w.gid("activity")},
          allowed={"admin": done("activity")},
          refused=community_admin_refusals(party_member=FORBID)),
    Entry("Mutation.signUpForActivity", "volunteers/SignUpForActivity", lambda w: {"activityId": w.gid("activity")},
          allowed={"other_volunteer": done("signup")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "other_resident": FORBID, "resident": payload("NOT_ELIGIBLE")},
          secrets=("activity",)),
    Entry("Mutation.cancelActivitySignup", "volunteers/CancelActivitySignup", lambda w: {"activityId": w.gid("activity")},
          allowed={"volunteer": done("signup")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "other_resident": FORBID,
                   "other_volunteer": payload("NOT_SIGNED_UP")},
          secrets=("activity",)),
    Entry("Mutation.checkInToActivity", "volunteers/CheckInToActivity",
          lambda w: {"activityId": w.gid("activity"), "location": HERE},
          allowed={"volunteer": done("checkIn")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "other_resident": FORBID,
                   "other_volunteer": payload("NOT_SIGNED_UP")},
          secrets=("activity",)),
    Entry("Mutation.checkOutOfActivity", "volunteers/CheckOutOfActivity", lambda w: {"activityId": w.gid("activity")},
          allowed={"party_member": done("checkIn")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "other_resident": FORBID, "volunteer": payload("NOT_CHECKED_IN")},
          secrets=("checkin",)),
]

HOURS = [
    Entry("Query.myServiceHours", "volunteers/MyServiceHours",
          allowed={"volunteer": sees("entry")},
          refused={"anonymous": UNAUTH, "other_volunteer": ABSENT, "admin": ABSENT},
          secrets=("entry",)),
    Entry("Query.serviceHours", "volunteers/ServiceHours", lambda w: {"communityId": w.gid("com_a")},
          allowed={"admin": sees("entry"), "commander": sees("entry")},
          refused=community_admin_refusals(), secrets=("entry", "volunteer")),
    Entry("Query.serviceHours", "volunteers/ServiceHours",
          lambda w: {"communityId": w.gid("com_a"), "userId": w.gid("volunteer")}, variant="(one member)",
          allowed={"admin": sees("entry")},
          refused=community_admin_refusals(other_volunteer=FORBID), secrets=("entry", "volunteer")),
    Entry("Mutation.correctServiceHours", "volunteers/CorrectServiceHours",
          lambda w: {"entryId": w.gid("entry"), "hours": "-0.5", "reason": "多记了半小时"},
          allowed={"admin": done("entry"), "commander": done("entry")},
          refused=community_admin_refusals(), secrets=("entry",)),
    Entry("Mutation.exportServiceHours", "volunteers/ExportServiceHours",
          lambda w: {"communityId": w.gid("com_a"), "format": "CSV"},
          allowed={"admin": done("file"), "commander": done("file")},
          refused=community_admin_refusals()),
]


ENTRIES = VOLUNTEERS + PARTY + ACTIVITIES + HOURS
