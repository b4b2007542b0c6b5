"""Who may be offered a task now: the eligible pool, as a query (never a copy).

Only the task's area's people: volunteers whose areas overlap the pool area (pool_area_for:
the task's area; wider only where staff who manage the wider area set the task's pool_area,
or a plan's override set pool_scope PLAN_AREA). Distance ranks them; it never brings in
someone from elsewhere.

Volunteers: approved with an active account (never pending or suspended), available now (on
duty, or inside a weekly window), holding every required skill valid today, under their own
limit of concurrent tasks, reachable (the app, or SMS to a number that has not opted out),
and not yet offered or given this task. In an area whose effective mode is EMERGENCY,
confirmed Party members registered with the area's community join, for tasks that need no
particular skill; someone who is also a volunteer is considered once, as a volunteer.

Candidates are looked up only in the H3 cells of a disk around the task (indexed columns of
the home and the temporary location) and inside the disk's bounding box; ranking.py then
measures and orders them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from community.geo import cells_within
from community.models import Area, Mode
from notifications.models import SmsOptOut
from notifications.unreachable import marked_numbers

from ..models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    ContactChannel,
    Offer,
    OfferPool,
    OfferStatus,
    PartyMemberRegistration,
    Task,
    TaskAssignment,
    Volunteer,
)
from ..models.volunteer import PRIOR_BAD, PRIOR_GOOD
from .ranking import Candidate

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PARTY_MEMBER_MAX_TASKS = 1  # Party members set no limit of their own


class Load(TypedDict):
    """What the pool queries annotate on everyone they return."""

    active_tasks: int
    pending_offers: int


class VolunteerLoad(Load):
    reliability_value: float


def _count(queryset: QuerySet[Model]) -> Coalesce:
    return Coalesce(Subquery(queryset.values("user_id").annotate(n=Count("id")).values("n")[:1], output_field=IntegerField()), Value(0))


def _active_tasks(at: dt.datetime) -> Coalesce:
    return _count(TaskAssignment.objects.filter(user_id=OuterRef("user_id"), status__in=ACTIVE_ASSIGNMENT_STATUSES).order_by())


def _pending_offers(at: dt.datetime) -> Coalesce:
    # Offers still PENDING (one past its deadline is expired by the sweep within seconds);
    # no time condition, so the (user, status) index answers it.
    return _count(Offer.objects.filter(user_id=OuterRef("user_id"), status=OfferStatus.PENDING).order_by())


def _not_yet_asked(task: Task) -> Q:
    offered = Offer.objects.filter(task_id=task.pk, user_id=OuterRef("user_id"))
    assigned = TaskAssignment.objects.filter(task_id=task.pk, user_id=OuterRef("user_id"))
    return ~Exists(offered) & ~Exists(assigned)


def reachable_q() -> Q:
    """The app (APP or BOTH), or SMS to a number that has not opted out and that carriers
    do not report dead."""
    opted_out = SmsOptOut.objects.filter(phone=OuterRef("user__phone"))
    dead = marked_numbers().filter(phone=OuterRef("user__phone"))
    by_sms = (Q(contact_channel=ContactChannel.SMS) & Q(user__phone__isnull=False) & ~Q(user__phone="")
              & Q(~Exists(opted_out)) & Q(~Exists(dead)))
    return Q(contact_channel__in=[ContactChannel.APP, ContactChannel.BOTH]) | by_sms


def pool_area_for(task: Task, pool_area_id: int | None = None) -> Area:
    """Whose people may be offered the task: the widest of its area, its pool_area and the
    override's area (`pool_area_id`, from DispatchParameters) — each the task's area or one
    above it, so the widest is the one with the shortest path."""
    choices = [task.area]
    if task.pool_area_id is not None and task.pool_area is not None:
        choices.append(task.pool_area)
    if pool_area_id is not None and pool_area_id not in (task.area_id, task.pool_area_id):
        override_area = Area.objects.filter(pk=pool_area_id).first()
        if override_area is not None:
            choices.append(override_area)
    return min((a for a in choices if a.contains(task.area)), key=lambda a: len(a.path))


def eligible_volunteers(task: Task, skill_codes: list[str], at: dt.datetime,
                        pool_area: Area | None = None) -> QuerySet[WithAnnotations[Volunteer, VolunteerLoad]]:
    return (
        Volunteer.objects.in_pool()
        .serving_in(pool_area or task.area)
        .available_at(at)
        .with_valid_skills(skill_codes, at)
        .filter(reachable_q())
        .filter(_not_yet_asked(task))
        .with_reliability()
        .annotate(active_tasks=_active_tasks(at), pending_offers=_pending_offers(at))
        .filter(active_tasks__lt=F("max_concurrent_tasks"))
    )


def party_members_join(task: Task, skill_codes: list[str], mode: str) -> bool:
    return mode == Mode.EMERGENCY and not skill_codes


def eligible_party_members(task: Task, at: dt.datetime,
                           pool_area: Area | None = None) -> QuerySet[WithAnnotations[PartyMemberRegistration, Load]]:
    is_volunteer = Volunteer.objects.filter(user_id=OuterRef("user_id"))
    return (
        PartyMemberRegistration.objects.confirmed_in(pool_area or task.area)
        .filter(~Exists(is_volunteer))
        .filter(_not_yet_asked(task))
        .annotate(active_tasks=_active_tasks(at), pending_offers=_pending_offers(at))
        .filter(active_tasks__lt=PARTY_MEMBER_MAX_TASKS)
    )


# --- the spatial step ---------------------------------------------------------------------
Box = tuple[tuple[float, float], tuple[float, float]]  # (lat range, lng range)


def _box(lat: float, lng: float, radius_m: float) -> Box | None:
    """(lat range, lng range) containing the disk, with margin; None near the poles."""
    dlat = radius_m * 1.01 / 110_500 + 1e-6
    far_lat = abs(lat) + dlat
    if far_lat >= 89.0:
        return None
    dlng = radius_m * 1.01 / (111_000 * math.cos(math.radians(far_lat))) + 1e-6
    return (lat - dlat, lat + dlat), (lng - dlng, lng + dlng)


def _point_q(prefix: str, cells: list[str], box: Box | None) -> Q:
    q = Q(**{f"{prefix}h3_cell__in": cells})
    if box is not None:
        q &= Q(**{f"{prefix}lat__range": box[0], f"{prefix}lng__range": box[1]})
    return q


def volunteer_candidates(task: Task, skill_codes: list[str], radius_m: int, at: dt.datetime,
                         pool_area: Area | None = None) -> list[Candidate]:
    """Eligible volunteers whose effective point (temporary while it lasts, else home) may be
    within radius_m of the task: one indexed query, bare values."""
    cells = cells_within(*task.site, radius_m)
    box = _box(*task.site, radius_m)
    temp = Q(temp_location_until__gt=at, temp_h3_cell__gt="")
    # The spatial step as its own subquery, so every planner starts from the cell indexes
    # (SQLite would otherwise walk the status index: nearly every volunteer is approved).
    near = Volunteer.objects.filter((temp & _point_q("temp_", cells, box)) | (~temp & _point_q("", cells, box)))
    rows = eligible_volunteers(task, skill_codes, at, pool_area).filter(pk__in=near.values("pk")).values_list(
        "pk", "user_id", "lat", "lng", "temp_lat", "temp_lng", "temp_location_until",
        "reliability_value", "active_tasks", "pending_offers", "contact_channel",
    )
    found = []
    for pk, user_id, lat, lng, tlat, tlng, tuntil, reliability, active, pending, channel in rows:
        point = (tlat, tlng) if tuntil is not None and tuntil > at and tlat is not None else (lat, lng)
        if point[0] is None or point[1] is None:
            continue
        found.append(Candidate(
            user_id=user_id, volunteer_id=pk, pool=OfferPool.VOLUNTEER, lat=point[0], lng=point[1],
            reliability=float(reliability), load=active + pending, channel=channel,
        ))
    return found


def party_member_candidates(task: Task, radius_m: int, at: dt.datetime, pool_area: Area | None = None) -> list[Candidate]:
    cells = cells_within(*task.site, radius_m)
    box = _box(*task.site, radius_m)
    near = PartyMemberRegistration.objects.filter(_point_q("", cells, box)).values("pk")
    rows = eligible_party_members(task, at, pool_area).filter(pk__in=near).values_list(
        "user_id", "lat", "lng", "active_tasks", "pending_offers",
    )

    prior = PRIOR_GOOD / (PRIOR_GOOD + PRIOR_BAD)  # no record yet: the newcomer's reliability
    return [
        Candidate(user_id=user_id, volunteer_id=None, pool=OfferPool.PARTY_MEMBER, lat=lat, lng=lng,
                  reliability=prior, load=active + pending, channel=ContactChannel.BOTH)
        for user_id, lat, lng, active, pending in rows
        if lat is not None and lng is not None
    ]
