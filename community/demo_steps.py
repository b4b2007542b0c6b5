"""Demo data of the community app: 2,000 residents in households, ~10% vulnerable, some with
no phone, a few using the app, ~40 hazard points (some overdue) and a few reports.

Deterministic from the demo's rng; bulk inserts only, so `make run` stays fast.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from notifications.models import Device, DevicePlatform, PushProvider

from .demo import DemoCity, register_demo_step
from .models import (
    VULNERABILITY_FLAGS,
    Area,
    EmergencyContact,
    HazardKind,
    HazardPoint,
    Household,
    LocationSource,
    ReportKind,
    Resident,
    ResidentReport,
    User,
)

RESIDENTS = 2000
APP_USERS = 20
HAZARDS = 40
STREETS = ["解放路", "延安路", "中山南路", "南山路", "河坊街", "清波街", "湖滨路", "平海路"]
HAZARD_NAMES = {
    HazardKind.WATERLOGGING: "易涝点", HazardKind.OLD_BUILDING: "老旧住宅楼", HazardKind.GAS_LINE: "燃气管线",
    HazardKind.SLOPE: "边坡", HazardKind.CONSTRUCTION_SITE: "建筑工地", HazardKind.ELECTRICAL: "配电箱",
    HazardKind.FIRE: "电动车集中充电点", HazardKind.WATERWAY: "河道护栏",
}
CARE_NOTES = ["需要轮椅", "听力不好, 请敲门大声说话", "每日需服降压药", "家用制氧机, 停电需转移", "独居, 子女在外地", "视力差"]


def demo_residents(demo: DemoCity) -> None:
    rng = demo.rng
    households, rows = _households_and_residents(demo)
    Household.objects.bulk_create(households, batch_size=500)
    for resident in rows:
        if resident.household is not None:
            resident.household_id = resident.household.pk
    Resident.objects.bulk_create(rows, batch_size=500)
    contacts = [
        EmergencyContact(resident=r, name=demo.chinese_name(), phone=f"+86136{i:08d}", relation=rng.choice(["family", "neighbour"]))
        for i, r in enumerate(rows)
        if r.is_vulnerable
    ]
    EmergencyContact.objects.bulk_create(contacts, batch_size=500)
    _app_users(demo, rows)
    _hazards(demo)


def _households_and_residents(demo: DemoCity) -> tuple[list[Household], list[Resident]]:
    rng = demo.rng
    households: list[Household] = []
    rows: list[Resident] = []
    while len(rows) < RESIDENTS:
        grid = rng.choice(demo.grids)
        lat, lng = demo.point_in(grid)
        address = f"{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 12)}幢{rng.randint(1, 6)}0{rng.randint(1, 4)}"
        household = Household(grid=grid, label=f"{address}#{len(households) + 1}", address=address)
        households.append(household)
        for _ in range(min(rng.choice([1, 1, 2, 2, 3, 4]), RESIDENTS - len(rows))):
            rows.append(_resident(demo, grid, household, address, (lat, lng), len(rows)))
    return households, rows


def _resident(demo: DemoCity, grid: Area, household: Household, address: str, point: tuple[float, float],
              n: int) -> Resident:
    rng = demo.rng
    resident = Resident(
        display_name=demo.chinese_name(), grid=grid, household=household, address=address,
        phone=None if rng.random() < 0.15 else f"+86135{n:08d}", location_source=LocationSource.STAFF,
        consent_to_contact=rng.random() < 0.8, languages=["普通话"] + (["杭州话"] if rng.random() < 0.4 else []),
    )
    resident.set_location(point[0] + rng.uniform(-0.0002, 0.0002), point[1] + rng.uniform(-0.0002, 0.0002))
    if rng.random() < 0.10:
        for flag in rng.sample(VULNERABILITY_FLAGS, rng.choice([1, 1, 2])):
            setattr(resident, flag, True)
        resident.care_notes = rng.choice(CARE_NOTES)
    resident.refresh_vulnerability()
    return resident


def _app_users(demo: DemoCity, rows: list[Resident]) -> None:
    """A few residents use the app (log in by phone): accounts linked, a few reports filed."""
    rng = demo.rng
    chosen = [r for r in rows if r.phone][:APP_USERS]
    users = [User(username=f"resident{i + 1}", phone=r.phone, display_name=r.display_name) for i, r in enumerate(chosen)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    for resident, user in zip(chosen, users, strict=True):
        resident.user = user
    Resident.objects.bulk_update(chosen, ["user"])
    # Their phones are registered for push (JPush, as most Android phones in mainland China):
    # "reachable by app" means a live device (notifications/devices.py).
    Device.objects.bulk_create([Device(user=user, platform=DevicePlatform.ANDROID, provider=PushProvider.JPUSH,
                                       token=f"demo{i + 1:04d}jpushregid") for i, user in enumerate(users)])
    reports = []
    for resident in chosen[:8]:
        kind = rng.choice([ReportKind.HAZARD, ReportKind.HAZARD, ReportKind.HELP])
        report = ResidentReport(
            kind=kind, reporter=resident.user, resident=resident, grid=resident.grid,
            description="楼道堆放杂物, 堵塞消防通道" if kind == ReportKind.HAZARD else "家中老人行动不便, 需要帮忙买药",
        )
        report.set_location(resident.lat, resident.lng)
        reports.append(report)
    ResidentReport.objects.bulk_create(reports)


def _hazards(demo: DemoCity) -> None:
    rng = demo.rng
    now = timezone.now()
    points = []
    for i in range(HAZARDS):
        grid = demo.grids[i % len(demo.grids)]
        kind = rng.choice(list(HAZARD_NAMES))
        interval = rng.choice([7, 14, 30, 90])
        severity = rng.choice([1, 2, 2, 3, 4])
        last_inspected = now - dt.timedelta(days=rng.randint(1, 100))
        point = HazardPoint(
            name=f"{grid.name}{HAZARD_NAMES[kind]}{i // len(demo.grids) + 1}", kind=kind, grid=grid,
            severity=severity, inspection_interval_days=interval, last_inspected_at=last_inspected,
        )
        point.set_location(*demo.point_in(grid))
        point.schedule_next(last_inspected)  # about a third end up overdue
        points.append(point)
    HazardPoint.objects.bulk_create(points)


register_demo_step(20, demo_residents)
