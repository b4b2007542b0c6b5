"""The periodic sweep (CELERY_BEAT_SCHEDULE, every 15 s): deadlines live in the database,
and this moves everything that is due, so a lost broker message or a dead worker delays a
task and never stalls it.

1. offers past their deadline: PENDING -> EXPIRED (a conditional UPDATE on rows locked with
   SKIP LOCKED: an answer being written right now decides its own offer);
2. tasks whose wave has thus run out, or whose dispatch_due_at passed (a worker never
   finished), are claimed (dispatch_due_at moved on by a conditional UPDATE, so two sweeps
   never hand out one task twice) and handed to workers: offer_next_wave;
3. pending offers left on tasks that are full or closed are withdrawn;
4. deadlines falling before the next sweep get their countdown message again
   (resend_expiries): a worker killed while holding countdown messages (Celery holds them
   until they are due, unacknowledged) would otherwise leave them to be redelivered only
   after the broker's visibility timeout. Duplicates are harmless: the expiry is idempotent.

Offers normally expire at their deadline by that countdown message (schedule_expiry, sent
when a wave commits); the sweep is the backstop.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.enqueue import enqueue_later, enqueue_now, enqueue_on_commit
from notifications.outbox import supersede_messages

from ..models import (
    CLOSED_TASK_STATUSES,
    DISPATCHABLE_STATUSES,
    Offer,
    OfferOutcome,
    OfferStatus,
    Task,
    TaskEventKind,
    TaskStatus,
    WithdrawReason,
)
from . import timeline
from .record import record_answers
from .state import RUN_DISPATCH, lock_task, withdraw_pending

# The Celery task that expires one task's offers at their deadline (volunteers/tasks.py).
EXPIRE_OFFERS = "volunteers.tasks.expire_task_offers"

logger = logging.getLogger(__name__)
MAX_EXPIRY_BATCHES = 20


@dataclass(frozen=True)
class SweepReport:
    expired: int
    dispatched: list[int]
    tidied: int


def expire_offers(queryset: QuerySet[Offer], now: dt.datetime, batch: int | None = None) -> list[int]:
    """Expire the PENDING offers of `queryset` whose deadline is at or before `now`; returns
    the task id of each offer expired. Runs inside the caller's transaction."""
    due = queryset.filter(status=OfferStatus.PENDING, expires_at__lte=now).select_for_update(skip_locked=True, no_key=True)
    offers = list(due.order_by("expires_at", "id")[: batch or settings.DISPATCH_SWEEP_BATCH])
    if not offers:
        return []
    moved = Offer.objects.filter(pk__in=[o.pk for o in offers], status=OfferStatus.PENDING, expires_at__lte=now).update(
        status=OfferStatus.EXPIRED, closed_at=now,
    )
    if moved != len(offers):  # only without row locks (never on PostgreSQL): keep the ones that moved
        offers = list(Offer.objects.filter(pk__in=[o.pk for o in offers], status=OfferStatus.EXPIRED, closed_at=now))
    for offer in offers:
        offer.status, offer.closed_at = OfferStatus.EXPIRED, now
        timeline.publish_offer(offer)
    supersede_messages(offers, reason="offer expired")  # an SMS still queued would come too late
    timeline.record_offers(TaskEventKind.EXPIRED, offers, at=now)
    record_answers((o.volunteer_id for o in offers), OfferOutcome.EXPIRED)
    return [o.task_id for o in offers]


def schedule_expiry(task_id: int, deadline: dt.datetime) -> None:
    """After commit, ask a worker to expire the task's offers at `deadline` (a countdown
    message), so an unanswered offer expires on time rather than at the next sweep. A lost
    message or a killed worker only makes it late: the sweep still expires it."""

    def send() -> None:
        countdown = max(0.0, (deadline - timezone.now()).total_seconds())
        enqueue_later(EXPIRE_OFFERS, task_id, deadline.isoformat(), countdown=countdown)

    transaction.on_commit(send)


def resend_expiries(now: dt.datetime, horizon_s: float, batch: int) -> int:
    """Send the countdown message again for each (task, deadline) of pending offers due
    within `horizon_s` (after the sweep's own expiries, nothing pending is past due)."""
    due = (
        Offer.objects.filter(status=OfferStatus.PENDING, expires_at__gt=now,
                             expires_at__lte=now + dt.timedelta(seconds=horizon_s))
        .values_list("task_id", "expires_at").distinct().order_by("expires_at", "task_id")[:batch]
    )
    sent = 0
    for task_id, deadline in due:
        sent += enqueue_later(EXPIRE_OFFERS, task_id, deadline.isoformat(),
                              countdown=max(0.0, (deadline - timezone.now()).total_seconds()))
    return sent


def expire_task_offers(task_id: int, now: dt.datetime | None = None) -> int:
    """Expire the task's offers whose deadline has passed (the countdown message's work).
    Idempotent: only offers still PENDING and past their deadline move (the conditional
    UPDATE of expire_offers), so a redelivered message, the sweep or an answer that got there
    first leave nothing to do. When some expired, the next wave is asked for now (with the
    sweep's lease, so the sweep does not ask again) instead of at the next sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        touched = expire_offers(Offer.objects.filter(task_id=task_id), now)
        if touched:
            lease = now + dt.timedelta(seconds=settings.DISPATCH_RETRY_AFTER_SECONDS)
            if Task.objects.filter(pk=task_id, auto_dispatch=True, status__in=DISPATCHABLE_STATUSES).update(
                    dispatch_due_at=lease):
                enqueue_on_commit(RUN_DISPATCH, task_id)
    return len(touched)


def claim_due_tasks(now: dt.datetime, batch: int) -> list[int]:
    """Tasks the engine must look at now, each claimed by one sweep for a lease."""
    lease = now + dt.timedelta(seconds=settings.DISPATCH_RETRY_AFTER_SECONDS)
    due = (
        Task.objects.filter(auto_dispatch=True, status__in=(*DISPATCHABLE_STATUSES, TaskStatus.UNSTAFFED),
                            dispatch_due_at__lte=now)
        .order_by("dispatch_due_at", "id").values_list("pk", "dispatch_due_at")[:batch]
    )
    return [pk for pk, at in due if Task.objects.filter(pk=pk, dispatch_due_at=at).update(dispatch_due_at=lease)]


def withdraw_stray_offers(now: dt.datetime, batch: int) -> int:
    """Pending offers on a task that is full or closed (an answer that was being written
    while the task filled up, then rolled back): withdraw them."""
    # Driven from the pending offers (few, and indexed), never from the whole task table.
    stray = (
        Offer.objects.filter(status=OfferStatus.PENDING)
        .filter(Q(task__status__in=CLOSED_TASK_STATUSES) | Q(task__filled_count__gte=F("task__headcount")))
        .order_by("task_id").values_list("task_id", flat=True).distinct()[:batch]
    )
    withdrawn = 0
    for task_id in stray:
        with transaction.atomic():
            task = lock_task(task_id)
            reasons: dict[str, WithdrawReason] = {TaskStatus.CANCELLED: WithdrawReason.CANCELLED,
                                                  TaskStatus.DONE: WithdrawReason.CLOSED}
            reason = reasons.get(task.status, WithdrawReason.STAFFED)
            withdrawn += withdraw_pending(task, reason, now)
    return withdrawn


def sweep_dispatch(now: dt.datetime | None = None, batch: int | None = None) -> SweepReport:
    now = now or timezone.now()
    batch = batch or settings.DISPATCH_SWEEP_BATCH
    expired = 0
    for _ in range(MAX_EXPIRY_BATCHES):  # a burst of deadlines is cleared in one sweep, batch by batch
        with transaction.atomic():
            touched = expire_offers(Offer.objects.all(), now, batch)
            # A wave that has run out is due at once (offer_next_wave waits if offers remain).
            Task.objects.filter(pk__in=set(touched), auto_dispatch=True, status__in=DISPATCHABLE_STATUSES).update(
                dispatch_due_at=now)
        expired += len(touched)
        if len(touched) < batch:
            break
    tidied = withdraw_stray_offers(now, batch)
    claimed = claim_due_tasks(now, batch)
    for task_id in claimed:
        enqueue_now(RUN_DISPATCH, task_id)
    resend_expiries(now, settings.DISPATCH_EXPIRY_RESEND_SECONDS, batch)
    if expired or claimed or tidied:
        logger.info("dispatch sweep: %d offers expired, %d tasks handed to workers, %d stray offers withdrawn",
                    expired, len(claimed), tidied)
    return SweepReport(expired=expired, dispatched=claimed, tidied=tidied)


__all__ = ["EXPIRE_OFFERS", "SweepReport", "claim_due_tasks", "expire_offers", "expire_task_offers", "resend_expiries",
           "schedule_expiry", "sweep_dispatch", "withdraw_stray_offers"]
