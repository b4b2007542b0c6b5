"""The task's status machine and the moves every path shares: staffing a full task, reopening
a place, scheduling the next wave, telling people an offer is withdrawn.

All functions run inside the caller's transaction with the task row locked (lock_task), so
two moves of one task never interleave.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import F, QuerySet

from community.models import User
from core.enqueue import enqueue_on_commit
from core.errors import ValidationError
from notifications.outbox import supersede_messages

from ..error_codes import VolunteersErrorCode as Code
from ..models import Offer, OfferStatus, Task, TaskEventKind, TaskStatus, WithdrawReason
from . import timeline
from .delivery import tell_withdrawn

logger = logging.getLogger(__name__)

# The Celery task that sends a task's next wave (volunteers/tasks.py imports this package).
RUN_DISPATCH = "volunteers.tasks.run_dispatch"

TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    TaskStatus.OPEN: frozenset({TaskStatus.DISPATCHING, TaskStatus.STAFFED, TaskStatus.IN_PROGRESS,
                                TaskStatus.UNSTAFFED, TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.DISPATCHING: frozenset({TaskStatus.OPEN, TaskStatus.STAFFED, TaskStatus.IN_PROGRESS,
                                       TaskStatus.UNSTAFFED, TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.STAFFED: frozenset({TaskStatus.OPEN, TaskStatus.DISPATCHING, TaskStatus.IN_PROGRESS,
                                   TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.UNSTAFFED: frozenset({TaskStatus.OPEN, TaskStatus.DISPATCHING, TaskStatus.STAFFED,
                                     TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.DONE: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


def locked_tasks() -> QuerySet[Task]:
    """Tasks read with their row locked until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway). Only the task row (not its area: tasks of one grid must not
    queue behind each other), and FOR NO KEY UPDATE, so rows that merely reference the task
    (its events, offers, assignments) can still be inserted meanwhile."""
    return Task.objects.select_for_update(no_key=True, of=("self",)).select_related("area")


def lock_task(task_id: int) -> Task:
    return locked_tasks().get(pk=task_id)


def move_task(task: Task, to: str, now: dt.datetime, **fields: object) -> None:
    """The one function that changes a task's status; refuses illegal moves."""
    if to not in TASK_TRANSITIONS[task.status]:
        raise ValidationError(f"A task that is {task.status} cannot become {to}.", code=Code.TASK_CLOSED)
    task.status = to
    for name, value in fields.items():
        setattr(task, name, value)
    task.updated_at = now
    task.save(update_fields=["status", "updated_at", *fields])


def require_open(task: Task) -> None:
    if task.is_closed:
        raise ValidationError(f"The task is {task.get_status_display()}; it can no longer change.", code=Code.TASK_CLOSED)


def pending_offers(task: Task) -> QuerySet[Offer]:
    return Offer.objects.filter(task_id=task.pk, status=OfferStatus.PENDING)


def schedule_wave(task: Task, now: dt.datetime) -> None:
    """Ask a worker for the next wave after commit; if that message is lost or the worker
    dies, the sweep finds dispatch_due_at passed and asks again."""
    task.dispatch_due_at = now + dt.timedelta(seconds=settings.DISPATCH_RETRY_AFTER_SECONDS)
    Task.objects.filter(pk=task.pk).update(dispatch_due_at=task.dispatch_due_at)
    enqueue_on_commit(RUN_DISPATCH, task.pk)


def staff_if_full(task: Task, now: dt.datetime) -> bool:
    """Every place taken: STAFFED (unless work has started), pending offers withdrawn."""
    if task.filled_count < task.headcount:
        return False
    if task.status in (TaskStatus.OPEN, TaskStatus.DISPATCHING, TaskStatus.UNSTAFFED):
        move_task(task, TaskStatus.STAFFED, now, staffed_at=task.staffed_at or now, dispatch_due_at=None)
        timeline.record(task, TaskEventKind.STAFFED, at=now, filled=task.filled_count)
    else:
        Task.objects.filter(pk=task.pk).update(dispatch_due_at=None)
    withdraw_pending(task, WithdrawReason.STAFFED, now)
    return True


def withdraw_pending(task: Task, reason: str, now: dt.datetime) -> int:
    """Withdraw the task's pending offers and tell their people. Offers another transaction is
    answering right now are skipped (never waited for): that answer decides them."""
    locked = list(pending_offers(task).select_for_update(skip_locked=True, no_key=True).select_related(None))
    if not locked:
        return 0
    Offer.objects.filter(pk__in=[o.pk for o in locked], status=OfferStatus.PENDING).update(
        status=OfferStatus.WITHDRAWN, withdrawn_reason=reason, closed_at=now,
    )
    for offer in locked:
        offer.status, offer.withdrawn_reason, offer.closed_at = OfferStatus.WITHDRAWN, reason, now
        timeline.publish_offer(offer)
    timeline.record_offers(TaskEventKind.OFFER_WITHDRAWN, locked, at=now, reason=str(reason))
    # Offer SMS not yet handed over go no more (filled, cancelled, closed); then only those
    # who were texted are told by SMS.
    supersede_messages(locked, reason=f"offer withdrawn: {str(reason).lower()}")
    tell_withdrawn(task, locked, reason)
    return len(locked)


def reopen_place(task: Task, now: dt.datetime, *, actor: User | None = None) -> None:
    """A place came free (someone withdrew or was removed, headcount raised): the engine
    resumes for an automatic task; a STAFFED task goes back to looking for people."""
    if task.is_closed or task.places_left <= 0:
        return
    if task.status == TaskStatus.STAFFED:
        move_task(task, TaskStatus.DISPATCHING if task.auto_dispatch else TaskStatus.OPEN, now)
    timeline.record(task, TaskEventKind.PLACE_REOPENED, actor=actor, at=now, placesLeft=task.places_left)
    if task.auto_dispatch and task.status in (TaskStatus.DISPATCHING, TaskStatus.OPEN, TaskStatus.IN_PROGRESS):
        schedule_wave(task, now)


def after_answer(task: Task, now: dt.datetime) -> None:
    """An offer left PENDING: when it was the last of its wave and places remain, the next
    wave goes out now instead of at the sweep."""
    if task.auto_dispatch and task.places_left > 0 and task.status in (TaskStatus.OPEN, TaskStatus.DISPATCHING, TaskStatus.IN_PROGRESS):
        if not pending_offers(task).exists():
            schedule_wave(task, now)


def bump_version(task: Task, now: dt.datetime, **values: object) -> None:
    """Write staff changes and the next version in one UPDATE (the row is locked)."""
    Task.objects.filter(pk=task.pk).update(version=F("version") + 1, updated_at=now, **values)
    task.version += 1
    task.updated_at = now
    for name, value in values.items():
        setattr(task, name, value)
