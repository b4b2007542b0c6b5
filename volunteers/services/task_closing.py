"""Ending tasks when what started them is over, and help requests that share a door.

    stop_recruiting(task, by=..., reason=...)        # people on it go on; nobody new is asked
    join_help_request(task, by=..., note=...)         # one more person to help at that door
    close_tasks(tasks, by=..., reason=..., dry_run=)  # a staff member closes many at once

close_tasks settles each task as a person would by hand: a task somebody holds or works on is
closed (those on site completed and their hours recorded, the others released), a task
nobody holds is cancelled with the reason. Each task has its own transaction under its row
lock, so a task closed meanwhile (or answered meanwhile) is skipped, never half-done, and a
repeat of the same request finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from community.models import User
from core.errors import ValidationError

from ..dispatch import timeline
from ..dispatch.state import lock_task, move_task, withdraw_pending
from ..error_codes import VolunteersErrorCode as Code
from ..models import ACTIVE_TASK_STATUSES, Task, TaskEventKind, TaskStatus, WithdrawReason
from .assignments import finish_task
from .tasks import _cancel

MAX_PEOPLE_TO_HELP = 50
MAX_CLOSED_AT_ONCE = 500


def is_held(task: Task) -> bool:
    """Somebody holds a place on it, or work has started."""
    return task.filled_count > 0 or task.status == TaskStatus.IN_PROGRESS


def stop_recruiting(task: Task, *, by: User | None, reason: str, now: dt.datetime | None = None) -> int:
    """The people on the task go on; pending offers are withdrawn and the engine asks nobody
    new (a DISPATCHING task becomes OPEN: staff may still offer it by hand). Returns the
    offers withdrawn."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task.pk)
        if task.is_closed:
            return 0
        withdrawn = withdraw_pending(task, WithdrawReason.CLOSED, now)
        if task.status == TaskStatus.DISPATCHING:
            move_task(task, TaskStatus.OPEN, now)
        Task.objects.filter(pk=task.pk).update(auto_dispatch=False, dispatch_due_at=None, version=F("version") + 1,
                                               updated_at=now)
        task.auto_dispatch, task.dispatch_due_at, task.version = False, None, task.version + 1
        timeline.record(task, TaskEventKind.RECRUITING_STOPPED, actor=by, at=now, reason=reason, offersWithdrawn=withdrawn)
        timeline.publish_task(task, TaskEventKind.RECRUITING_STOPPED)
    return withdrawn


def join_help_request(task: Task, *, by: User | None, note: str = "", resident_id: int | None = None,
                      now: dt.datetime | None = None) -> Task:
    """Another person at the same door needs help: the open request counts one more person to
    help (people_to_help, not volunteers) instead of a second task at that door."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task.pk)
        people = min(MAX_PEOPLE_TO_HELP, task.people_to_help + 1)
        Task.objects.filter(pk=task.pk).update(people_to_help=people, version=F("version") + 1, updated_at=now)
        task.people_to_help, task.version = people, task.version + 1
        timeline.record(task, TaskEventKind.HELP_JOINED, actor=by, at=now, peopleToHelp=people, note=note,
                        residentId=resident_id)
        timeline.publish_task(task, TaskEventKind.HELP_JOINED)
    return task


@dataclass
class ClosingResult:
    matched: int = 0
    closed: int = 0
    cancelled: int = 0
    skipped: int = 0
    remaining: int = 0
    task_ids: list[int] = field(default_factory=list)


def close_tasks(tasks: QuerySet[Task], *, by: User, reason: str = "", dry_run: bool = False,
                limit: int = MAX_CLOSED_AT_ONCE, now: dt.datetime | None = None) -> ClosingResult:
    """Close (somebody on it) or cancel (nobody on it) up to `limit` open tasks of `tasks`,
    oldest first; `remaining` says how many open ones are left for another call. The caller
    scoped `tasks` to what `by` may manage. dry_run: count, change nothing."""
    if not 1 <= limit <= MAX_CLOSED_AT_ONCE:
        raise ValidationError({"limit": f"Between 1 and {MAX_CLOSED_AT_ONCE}."}, code=Code.INVALID)
    if len(reason.strip()) > 500:
        raise ValidationError({"reason": "At most 500 characters."}, code=Code.TOO_LONG)
    open_tasks = tasks.filter(status__in=ACTIVE_TASK_STATUSES).order_by("created_at", "pk")
    total = open_tasks.count()
    batch = list(open_tasks.values_list("pk", "filled_count", "status")[:limit])
    result = ClosingResult(matched=total, remaining=max(0, total - len(batch)))
    if dry_run:
        result.closed = sum(1 for _, filled, status in batch if filled > 0 or status == TaskStatus.IN_PROGRESS)
        result.cancelled = len(batch) - result.closed
        result.task_ids = [pk for pk, _, _ in batch]
        return result
    for pk, _, _ in batch:
        outcome = _close_one(pk, by=by, reason=reason.strip(), now=now or timezone.now())
        setattr(result, outcome, getattr(result, outcome) + 1)
        if outcome != "skipped":
            result.task_ids.append(pk)
    return result


def _close_one(task_id: int, *, by: User, reason: str, now: dt.datetime) -> str:
    with transaction.atomic():
        task = lock_task(task_id)
        if task.is_closed:
            return "skipped"  # closed meanwhile
        if is_held(task):
            finish_task(task, now, by=by)
            return "closed"
        _cancel(task, now, by=by, reason=reason or "工作人员批量结束任务。")
        return "cancelled"


def open_task_ids(task_ids: Iterable[int]) -> list[int]:
    return list(Task.objects.filter(pk__in=list(task_ids), status__in=ACTIVE_TASK_STATUSES).values_list("pk", flat=True))
