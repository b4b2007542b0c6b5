"""Waves: offer the task to the next best people, widening the search until enough are found.

    offer_next_wave(task_id)

Runs with the task row locked, so concurrent runs (a redelivered message, the sweep and the
answer that ended a wave) queue behind each other, and the unique (task, person) offer
constraint makes a re-run offer nobody twice. Each run:

1. expires this task's offers whose deadline passed (the sweep does so for all tasks);
2. wants ceil(free places x wave_factor) - pending offers new offers (nothing while a wave
   is still out: the next wave goes when it has run out — all answered or expired — or when a
   place reopens);
3. looks within the task's current radius (radius_start_m at first) for eligible candidates,
   ranked (ranking.py); while fewer than wanted are found, widens by radius_step_m up to
   radius_max_m, recording each widening;
4. offers to those found (push, and SMS with a reply code for those who chose it), each
   expiring after answer_seconds; the task is DISPATCHING and due again when the wave ends;
5. when nobody is left and no offer is out, the task is UNSTAFFED and its staff are alerted;
6. an UNSTAFFED task is searched again quietly (no new alert) every
   DISPATCH_UNSTAFFED_RETRY_SECONDS until its deadline or DISPATCH_UNSTAFFED_RETRY_HOURS
   after it became unstaffed: whoever has come on duty since (and was not asked) is offered
   it, and the task is DISPATCHING again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from community.models import User

from ..models import (
    DISPATCHABLE_STATUSES,
    Offer,
    OfferVia,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskStatus,
    Team,
)
from . import pool, timeline
from .delivery import alert_unstaffed, deliver_offers
from .parameters import DispatchParameters, dispatch_parameters
from .ranking import Candidate, choose
from .state import locked_tasks, move_task, pending_offers
from .sweep import expire_offers, schedule_expiry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaveResult:
    task_id: int
    outcome: str  # "offered", "waiting", "unstaffed", "nothing_to_do"
    offered: int = 0
    radius_m: int = 0


def offer_next_wave(task_id: int, now: dt.datetime | None = None) -> WaveResult:
    now = now or timezone.now()
    with transaction.atomic():
        task = locked_tasks().filter(pk=task_id).first()
        if task is None:
            return WaveResult(task_id, "nothing_to_do")
        retrying = task.status == TaskStatus.UNSTAFFED
        if not task.auto_dispatch or task.status not in (*DISPATCHABLE_STATUSES, TaskStatus.UNSTAFFED) \
                or task.places_left <= 0:
            Task.objects.filter(pk=task.pk).update(dispatch_due_at=None)
            return WaveResult(task_id, "nothing_to_do")

        expire_offers(pending_offers(task).filter(expires_at__lte=now), now)
        params = dispatch_parameters(task)
        pending = pending_offers(task).count()
        wanted = params.wave_size(task.places_left) - pending
        if wanted <= 0:
            _due_when_wave_ends(task)
            return WaveResult(task_id, "waiting", radius_m=task.radius_m)
        chosen = find_candidates(task, params, wanted, now)
        if chosen:
            offers = make_offers(task, chosen, params, now, wave=task.wave_count + 1)
            _wave_sent(task, offers, now)
            return WaveResult(task_id, "offered", offered=len(offers), radius_m=task.radius_m)
        if pending:
            _due_when_wave_ends(task)
            return WaveResult(task_id, "waiting", radius_m=task.radius_m)
        if retrying:  # still nobody: look again later, without alerting staff again
            Task.objects.filter(pk=task.pk).update(dispatch_due_at=next_unstaffed_retry(task, now))
            return WaveResult(task_id, "unstaffed", radius_m=task.radius_m)
        _nobody_left(task, now)
        return WaveResult(task_id, "unstaffed", radius_m=task.radius_m)


def next_unstaffed_retry(task: Task, now: dt.datetime, since: dt.datetime | None = None) -> dt.datetime | None:
    """When to search again for an UNSTAFFED task; None when retries are off or over
    (past the deadline, or DISPATCH_UNSTAFFED_RETRY_HOURS after it became unstaffed)."""
    every = settings.DISPATCH_UNSTAFFED_RETRY_SECONDS
    if every <= 0:
        return None
    if since is None:
        since = (TaskEvent.objects.filter(task_id=task.pk, kind=TaskEventKind.UNSTAFFED)
                 .aggregate(latest=Max("at"))["latest"]) or now
    at = now + dt.timedelta(seconds=every)
    if at > since + dt.timedelta(hours=settings.DISPATCH_UNSTAFFED_RETRY_HOURS):
        return None
    if task.deadline is not None and at >= task.deadline:
        return None
    return at


def find_candidates(task: Task, params: DispatchParameters, wanted: int, now: dt.datetime) -> list[Candidate]:
    """The `wanted` best eligible people, widening the radius step by step while too few."""
    skills = list(task.required_skills.values_list("code", flat=True))
    party = pool.party_members_join(task, skills, params.mode)
    serving = pool.pool_area_for(task, params.pool_area_id)
    radius = min(max(task.radius_m, params.radius_start_m), params.radius_max_m)
    while True:
        found = pool.volunteer_candidates(task, skills, radius, now, serving)
        if party:
            found += pool.party_member_candidates(task, radius, now, serving)
        chosen = choose(found, task.site, radius, wanted, params.ranking_band_m)
        wider = params.next_radius(radius)
        if len(chosen) >= wanted or wider is None:
            break
        timeline.record(task, TaskEventKind.RADIUS_WIDENED, at=now, wave=task.wave_count + 1,
                        fromM=radius, toM=wider, found=len(chosen), wanted=wanted)
        radius = wider
    if radius != task.radius_m:
        task.radius_m = radius
        Task.objects.filter(pk=task.pk).update(radius_m=radius)
    return chosen


def make_offers(task: Task, chosen: list[Candidate], params: DispatchParameters, now: dt.datetime, *,
                wave: int, via: str = OfferVia.ENGINE, offered_by: User | None = None, team: Team | None = None) -> list[Offer]:
    """Write the offers (one INSERT), their timeline, and deliver them after commit. With
    `team`, the one candidate is its leader, answering for the team."""
    expires = now + dt.timedelta(seconds=params.answer_seconds)
    offers = [
        Offer(task=task, user_id=c.user_id, volunteer_id=c.volunteer_id, pool=c.pool, via=via, offered_by=offered_by,
              wave=wave, rank=i, distance_m=None if c.distance_m == float("inf") else round(c.distance_m, 1),
              offered_at=now, expires_at=expires, is_drill=task.is_drill, team=team)
        for i, c in enumerate(chosen, start=1)
    ]
    offers = Offer.objects.bulk_create(offers)
    if offers and offers[0].pk is None:  # a backend without RETURNING: read the ids back
        by_user = dict(Offer.objects.filter(task=task, user_id__in=[c.user_id for c in chosen]).values_list("user_id", "pk"))
        for offer in offers:
            offer.pk = offer.id = by_user[offer.user_id]
    timeline.record_offers(TaskEventKind.OFFERED, offers, at=now, actor=offered_by, expiresAt=expires.isoformat())
    if offers:
        schedule_expiry(task.pk, expires)  # on time; the sweep is the backstop
    deliver_offers(task, offers, {c.user_id: c.channel for c in chosen})
    return offers


def _wave_sent(task: Task, offers: list[Offer], now: dt.datetime) -> None:
    task.wave_count += 1
    fields = {"wave_count": task.wave_count, "dispatch_started_at": task.dispatch_started_at or now,
              "dispatch_due_at": max(o.expires_at for o in offers)}
    if task.status in (TaskStatus.OPEN, TaskStatus.UNSTAFFED):
        move_task(task, TaskStatus.DISPATCHING, now, **fields)
    else:
        for name, value in fields.items():
            setattr(task, name, value)
        Task.objects.filter(pk=task.pk).update(**fields)
    timeline.record(task, TaskEventKind.WAVE_SENT, at=now, wave=task.wave_count, offers=len(offers), radiusM=task.radius_m)
    timeline.publish_task(task, TaskEventKind.WAVE_SENT)


def _due_when_wave_ends(task: Task) -> None:
    """Backstop: look again when the last offer out must have been answered or expired."""
    latest = pending_offers(task).aggregate(latest=Max("expires_at"))["latest"]
    Task.objects.filter(pk=task.pk).update(dispatch_due_at=latest)


def _nobody_left(task: Task, now: dt.datetime) -> None:
    offered = Offer.objects.filter(task=task).count()
    if task.status in (TaskStatus.OPEN, TaskStatus.DISPATCHING):
        move_task(task, TaskStatus.UNSTAFFED, now, dispatch_due_at=next_unstaffed_retry(task, now, since=now))
    else:  # work under way with a free place: it goes on, staff fill the gap by hand
        Task.objects.filter(pk=task.pk).update(dispatch_due_at=None)
    timeline.record(task, TaskEventKind.UNSTAFFED, at=now, offers=offered, missing=task.places_left, radiusM=task.radius_m)
    alerted = alert_unstaffed(task, offers=offered, radius_m=task.radius_m)
    logger.info("task %s: nobody left within %s m after %s offers; %s staff alerted", task.pk, task.radius_m, offered, alerted)
    timeline.publish_task(task, TaskEventKind.UNSTAFFED)


