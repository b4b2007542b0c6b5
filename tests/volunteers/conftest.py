"""Fixtures for the volunteers app: volunteers, Party members and activities in the world."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone
from graphql_relay import to_global_id

from community.models import Area, User
from tests.world import make_user
from volunteers.models import (
    ActivitySignup,
    AvailabilityWindow,
    PartyMemberRegistration,
    PartyRegistrationStatus,
    ServiceActivity,
    Skill,
    Task,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.services import TaskSpec, create_task

_phones = itertools.count(1)

# Near the world's community A (grid A1's centre).
A_POINT = (30.271, 120.151)
B_POINT = (30.291, 120.171)


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def new_user(name: str, phone: bool = True, **extra) -> User:
    return make_user(name, f"+86137{next(_phones):08d}" if phone else None, display_name=name, **extra)


def make_volunteer(
    user: User | None = None,
    area: Area | None = None,
    *,
    status: str = VolunteerStatus.APPROVED,
    point: tuple[float, float] = A_POINT,
    skills: dict[str, dict] | None = None,
    windows: list[tuple[int, dt.time, dt.time]] = (),
    on_duty_until: dt.datetime | None = None,
    service_areas: list[Area] | None = None,
    **fields,
) -> Volunteer:
    user = user or new_user(f"vol{next(_phones)}")
    volunteer = Volunteer(user=user, area=area, status=status, on_duty_until=on_duty_until, **fields)
    volunteer.set_location(*point)
    volunteer.save()
    volunteer.service_areas.set(service_areas or [area])
    for code, extra in (skills or {}).items():
        VolunteerSkill.objects.create(volunteer=volunteer, skill=Skill.objects.get(code=code), **extra)
    for weekday, start, end in windows:
        AvailabilityWindow.objects.create(volunteer=volunteer, weekday=weekday, start=start, end=end)
    return volunteer


def make_member(user: User, community: Area, status: str = PartyRegistrationStatus.CONFIRMED, **fields) -> PartyMemberRegistration:
    values = dict(name=user.display_name or user.username, work_unit="市供电公司", party_branch="第一党支部", home_address="解放路1号")
    values.update(fields)
    return PartyMemberRegistration.objects.create(user=user, community=community, status=status, **values)


def make_activity(community: Area, *, starts_in=dt.timedelta(minutes=-10), hours: float = 2, point=A_POINT, signups=(), **fields) -> ServiceActivity:
    start = timezone.now() + starts_in
    values = dict(title="清理楼道杂物", capacity=10, checkin_radius_m=200)
    values.update(fields)
    activity = ServiceActivity(community=community, starts_at=start, ends_at=start + dt.timedelta(hours=hours), **values)
    activity.set_location(*point)
    activity.save()
    for user in signups:
        ActivitySignup.objects.create(activity=activity, user=user)
    ServiceActivity.objects.filter(pk=activity.pk).update(signed_up_count=len(signups))
    activity.refresh_from_db()
    return activity


@pytest.fixture(autouse=True)
def _clean_cache():
    # Check-in code attempt counters live in the cache; ids repeat across tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def volunteer(world) -> Volunteer:
    """An approved volunteer who signed up in grid A1 of community A."""
    return make_volunteer(new_user("小王"), world.grid_a1)


def new_task(area: Area, **fields) -> Task:
    """create_task with the spec's fields and the other arguments mixed, as tests write them."""
    spec_fields = {f.name for f in dataclasses.fields(TaskSpec)}
    spec = TaskSpec(**{k: v for k, v in fields.items() if k in spec_fields})
    return create_task(spec, area=area, **{k: v for k, v in fields.items() if k not in spec_fields})
