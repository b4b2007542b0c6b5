"""Demo data for the volunteers app (step 30): 300 volunteers with skills, schedules and
plausible homes in the demo grids, ~40 Party-member registrations, and a few service
activities (one finished, with attendance and hours; one upcoming per community).

Deterministic from the demo seed, and fast: rows are bulk-created, the password is hashed
once. Times are relative to when the demo is loaded, so it always looks current.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from community.demo import DEMO_PASSWORD, DemoCity, register_demo_step
from community.geo import cell_of
from community.models import Area, User

from .models import (
    ActivitySignup,
    AvailabilityWindow,
    ContactChannel,
    PartyMemberRegistration,
    PartyRegistrationStatus,
    ServiceActivity,
    Skill,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from .services import do_check_in, do_check_out

VOLUNTEERS = 300
PENDING, SUSPENDED = 12, 8  # the rest are approved
PARTY_MEMBERS = 40
SUSPEND_REASONS = ["多次接单后未到场", "资质证书待核实", "本人申请暂停"]
WORK_UNITS = ["市第一人民医院", "上城区教育局", "国网杭州供电公司", "杭州地铁集团", "市税务局", "浙江大学", "区市场监管局", "杭州银行"]
BRANCHES = ["第一党支部", "第二党支部", "机关党支部", "退休党支部"]
STREETS = ["解放路", "清波街", "河坊街", "南山路", "劳动路", "延安路"]
WINDOW_CHOICES = [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(18)), (dt.time(18), dt.time(22)), (dt.time(22), dt.time(6))]


def _phone(prefix: str, n: int) -> str:
    return f"+86{prefix}{n:08d}"


def _status(i: int) -> str:
    if i < PENDING:
        return VolunteerStatus.PENDING
    if i < PENDING + SUSPENDED:
        return VolunteerStatus.SUSPENDED
    return VolunteerStatus.APPROVED


def _community_of(demo: DemoCity, grid: Area) -> Area:
    return next(c for c in demo.communities if grid.path.startswith(c.path))


def _users(demo: DemoCity, username: str, count: int, phone_prefix: str) -> list[User]:
    password = make_password(DEMO_PASSWORD)
    users = [
        User(username=f"{username}{n:03d}", display_name=demo.chinese_name(), phone=_phone(phone_prefix, n),
             password=password, preferred_language="en" if demo.rng.random() < 0.05 else "zh-hans")
        for n in range(1, count + 1)
    ]
    User.objects.bulk_create(users)
    return list(User.objects.filter(username__startswith=username).order_by("username"))


def _volunteer(demo: DemoCity, user: User, i: int, now: dt.datetime) -> Volunteer:
    rng = demo.rng
    grid = rng.choice(demo.grids)
    status = _status(i)
    worker = demo.staff[f"gridworker{demo.grids.index(grid) + 1}"]
    offered = rng.randint(0, 20)
    accepted = rng.randint(0, offered)
    completed = rng.randint(max(0, accepted - 2), accepted)
    v = Volunteer(
        user=user, area=grid, status=status, signed_up_at=now - dt.timedelta(days=rng.randint(1, 700)),
        languages=["zh"] + (["en"] if rng.random() < 0.15 else []) + (["yue"] if rng.random() < 0.05 else []),
        max_concurrent_tasks=rng.choice([1, 1, 1, 2, 3]),
        contact_channel=rng.choice([ContactChannel.BOTH] * 6 + [ContactChannel.APP] * 2 + [ContactChannel.SMS] * 2),
        on_duty_until=now + dt.timedelta(hours=rng.randint(1, 8)) if status == VolunteerStatus.APPROVED and rng.random() < 0.1 else None,
        offered_count=offered, accepted_count=accepted, declined_count=rng.randint(0, offered - accepted),
        completed_count=completed, withdrawn_count=accepted - completed, expired_count=0,
    )
    v.expired_count = max(0, offered - accepted - v.declined_count)
    v.lat, v.lng = demo.point_in(grid)
    v.h3_cell = cell_of(v.lat, v.lng)
    if status != VolunteerStatus.PENDING:
        v.approved_by, v.approved_at = worker, v.signed_up_at + dt.timedelta(days=1)
    if status == VolunteerStatus.SUSPENDED:
        v.suspended_by, v.suspended_at = worker, now - dt.timedelta(days=rng.randint(1, 60))
        v.suspended_reason = rng.choice(SUSPEND_REASONS)
    return v


def _skills_and_windows(demo: DemoCity, volunteers: list[Volunteer], now: dt.datetime) -> None:
    rng = demo.rng
    skills = list(Skill.objects.filter(is_active=True))
    held, windows, areas = [], [], []
    through = Volunteer.service_areas.through
    for v in volunteers:
        for skill in rng.sample(skills, rng.randint(1, 3)):
            cert = f"{skill.code[:3].upper()}-{rng.randint(100000, 999999)}" if skill.requires_certificate else ""
            # About one certificate in ten has lapsed: it shows, but does not count.
            expires = (now + dt.timedelta(days=rng.randint(-200, 1500))).date() if cert else None
            held.append(VolunteerSkill(volunteer=v, skill=skill, certificate_ref=cert, expires_on=expires))
        for weekday in rng.sample(range(7), rng.choice([0, 1, 2, 3])):
            start, end = rng.choice(WINDOW_CHOICES)
            windows.append(AvailabilityWindow(volunteer=v, weekday=weekday, start=start, end=end))
        areas.append(through(volunteer_id=v.pk, area_id=v.area_id))
        if rng.random() < 0.2:
            areas.append(through(volunteer_id=v.pk, area_id=_community_of(demo, v.area).pk))
    VolunteerSkill.objects.bulk_create(held)
    AvailabilityWindow.objects.bulk_create(windows)
    through.objects.bulk_create(areas)


def _party_members(demo: DemoCity, volunteers: list[Volunteer], now: dt.datetime) -> list[PartyMemberRegistration]:
    rng = demo.rng
    # Many Party members also volunteer; the rest are new accounts.
    users = [v.user for v in rng.sample(volunteers, 15)] + _users(demo, "partymember", PARTY_MEMBERS - 15, "136")
    registrations = []
    for i, user in enumerate(users):
        grid = rng.choice(demo.grids)
        community = _community_of(demo, grid)
        status = PartyRegistrationStatus.PENDING if i % 7 == 3 else PartyRegistrationStatus.CONFIRMED
        admin = demo.staff[f"communityadmin{demo.communities.index(community) + 1}"]
        r = PartyMemberRegistration(
            user=user, community=community, name=user.display_name, work_unit=rng.choice(WORK_UNITS),
            party_branch=rng.choice(BRANCHES), status=status,
            home_address=f"{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 12)}幢{rng.randint(101, 1802)}室",
            created_at=now - dt.timedelta(days=rng.randint(1, 400)),
        )
        r.lat, r.lng = demo.point_in(grid)
        r.h3_cell = cell_of(r.lat, r.lng)
        if status == PartyRegistrationStatus.CONFIRMED:
            r.confirmed_by, r.confirmed_at = admin, r.created_at + dt.timedelta(days=2)
        registrations.append(r)
    return PartyMemberRegistration.objects.bulk_create(registrations)


def _activities(demo: DemoCity, registrations: list[PartyMemberRegistration], volunteers: list[Volunteer], now: dt.datetime) -> None:
    rng = demo.rng
    for idx, community in enumerate(demo.communities):
        admin = demo.staff[f"communityadmin{idx + 1}"]
        base = dict(community=community, capacity=30, checkin_radius_m=200, created_by=admin, address=f"{community.name}党群服务中心")
        past_start = (now - dt.timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
        past = ServiceActivity(title="垃圾分类宣传", description="在小区门口宣传垃圾分类。", starts_at=past_start,
                               ends_at=past_start + dt.timedelta(hours=3), checkin_code=f"HZ{idx + 1}07", **base)
        soon_start = (now + dt.timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)
        upcoming = ServiceActivity(title="敲门行动：走访独居老人", description="两人一组走访，确认老人安全、留下联系方式。",
                                   starts_at=soon_start, ends_at=soon_start + dt.timedelta(hours=2), **base)
        for a in (past, upcoming):
            a.set_location(community.center_lat, community.center_lng)
            a.save()
        members = [r.user for r in registrations if r.community_id == community.pk and r.status == PartyRegistrationStatus.CONFIRMED]
        locals_ = [v.user for v in volunteers if v.status == VolunteerStatus.APPROVED and v.area.path.startswith(community.path)]
        attendees = list(dict.fromkeys(members + rng.sample(locals_, min(10, len(locals_)))))[: past.capacity]
        _attend(demo, past, attendees)
        ActivitySignup.objects.bulk_create(ActivitySignup(activity=upcoming, user=u) for u in attendees[:8])
        ServiceActivity.objects.filter(pk=upcoming.pk).update(signed_up_count=min(8, len(attendees)))


def _attend(demo: DemoCity, activity: ServiceActivity, users: list[User]) -> None:
    """Sign up, check in at the place and out, through the real services (hours recorded)."""
    rng = demo.rng
    lat, lng = activity.meeting_point
    ActivitySignup.objects.bulk_create(ActivitySignup(activity=activity, user=u) for u in users)
    ServiceActivity.objects.filter(pk=activity.pk).update(signed_up_count=len(users))
    for user in users:
        arrive = activity.starts_at + dt.timedelta(minutes=rng.randint(-20, 40))
        near = (lat + rng.uniform(-0.0008, 0.0008), lng + rng.uniform(-0.0008, 0.0008))
        do_check_in(activity, user, point=near, now=arrive)
        do_check_out(activity, user, now=activity.ends_at - dt.timedelta(minutes=rng.randint(0, 50)))


@transaction.atomic
def build_volunteers(demo: DemoCity) -> None:
    now = timezone.now()
    users = _users(demo, "volunteer", VOLUNTEERS, "137")
    volunteers = Volunteer.objects.bulk_create([_volunteer(demo, u, i, now) for i, u in enumerate(users)])
    _skills_and_windows(demo, volunteers, now)
    registrations = _party_members(demo, volunteers, now)
    _activities(demo, registrations, volunteers, now)


register_demo_step(30, build_volunteers)
