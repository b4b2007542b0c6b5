"""After accepting: on the way, on site (within the task's radius), done — or withdrawn.

    ACCEPTED -> EN_ROUTE -> ON_SITE -> COMPLETED
         \\________\\__________\\-> WITHDRAWN (the person) | REMOVED (staff)
    and, when the task ends: CANCELLED (task cancelled) | RELEASED (closed before they arrived)

Each move is a conditional UPDATE on the current status. Completing writes the service-hours
ledger entry (source: the assignment) exactly once; when every place is completed the task
is DONE. Withdrawing or removing someone frees the place and the engine resumes.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from community.geo import distance_m
from community.models import User
from core.errors import ValidationError

from ..dispatch import timeline
from ..dispatch.delivery import tell_assignment_ended
from ..dispatch.state import (
    bump_version,
    lock_task,
    move_task,
    reopen_place,
    require_open,
    withdraw_pending,
)
from ..error_codes import VolunteersErrorCode as Code
from ..models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    AssignmentStatus,
    OfferOutcome,
    ServiceHoursKind,
    Task,
    TaskAssignment,
    TaskEventKind,
    TaskStatus,
    WithdrawReason,
)
from .hours import MAX_ENTRY_HOURS, record_service_hours
from .profiles import record_offer_outcome
from .task_closed import TaskClosing, task_closed

MIN_CREDIT = Decimal("0.25")


def _move(assignment: TaskAssignment, sources: tuple[str, ...], to: str, **values: object) -> None:
    changed = TaskAssignment.objects.filter(pk=assignment.pk, status__in=sources).update(status=to, **values)
    if not changed:
        assignment.refresh_from_db()
        raise ValidationError(
            f"You are {assignment.get_status_display()} on this task; that step is not possible now.",
            code=Code.INVALID_ASSIGNMENT_STATUS,
        )
    assignment.refresh_from_db()


def mark_en_route(assignment: TaskAssignment, *, now: dt.datetime | None = None) -> TaskAssignment:
    now = now or timezone.now()
    with transaction.atomic():
        require_open(assignment.task)
        _move(assignment, (AssignmentStatus.ACCEPTED,), AssignmentStatus.EN_ROUTE, en_route_at=now)
        timeline.record(assignment.task, TaskEventKind.EN_ROUTE, actor=assignment.user, subject_id=assignment.user_id, at=now)
        timeline.publish_task(assignment.task, TaskEventKind.EN_ROUTE)
    return assignment


def check_in_on_site(assignment: TaskAssignment, point: tuple[float, float], *, now: dt.datetime | None = None) -> TaskAssignment:
    """Arrived: the phone's position (WGS-84) must be within the task's check-in radius."""
    now = now or timezone.now()
    task = assignment.task
    require_open(task)
    distance = distance_m(task.site, point)
    if distance > task.checkin_radius_m:
        raise ValidationError(
            {"location": f"You are {distance:.0f} m from the task; check in within {task.checkin_radius_m} m of it."},
            code=Code.OUTSIDE_RADIUS,
        )
    with transaction.atomic():
        _move(assignment, (AssignmentStatus.ACCEPTED, AssignmentStatus.EN_ROUTE), AssignmentStatus.ON_SITE,
              on_site_at=now, on_site_lat=point[0], on_site_lng=point[1], on_site_distance_m=round(distance, 1))
        task = lock_task(task.pk)
        timeline.record(task, TaskEventKind.ON_SITE, actor=assignment.user, subject_id=assignment.user_id, at=now,
                        distanceM=round(distance))
        if task.status in (TaskStatus.OPEN, TaskStatus.DISPATCHING, TaskStatus.STAFFED, TaskStatus.UNSTAFFED):
            move_task(task, TaskStatus.IN_PROGRESS, now, started_at=task.started_at or now)
            timeline.record(task, TaskEventKind.STARTED, at=now)
        timeline.publish_task(task, TaskEventKind.ON_SITE)
    assignment.task = task
    return assignment


def hours_for(assignment: TaskAssignment, now: dt.datetime) -> Decimal:
    """Time since arriving (or, if never checked in, since setting off or accepting), to the
    nearest quarter hour, at least a quarter hour, at most a day."""
    start = assignment.on_site_at or assignment.en_route_at or assignment.assigned_at
    quarters = (Decimal(max(0.0, (now - start).total_seconds())) / Decimal(900)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(max(quarters * Decimal("0.25"), MIN_CREDIT), MAX_ENTRY_HOURS)


def complete_assignment(assignment: TaskAssignment, *, by: User, staff: bool = False, hours: Decimal | float | str | None = None,
                        now: dt.datetime | None = None) -> TaskAssignment:
    """The person finishes (after checking in on site), or staff complete for them (from any
    active step, optionally with the hours). The ledger entry is written once."""
    now = now or timezone.now()
    sources = ACTIVE_ASSIGNMENT_STATUSES if staff else (AssignmentStatus.ON_SITE,)
    with transaction.atomic():
        task = lock_task(assignment.task_id)
        require_open(task)
        _complete(task, assignment, sources, by=by, hours=hours, now=now)
        if _all_places_done(task):
            finish_task(task, now, by=None)
        else:
            timeline.publish_task(task, TaskEventKind.COMPLETED)
    assignment.task = task
    return assignment


def _complete(task: Task, assignment: TaskAssignment, sources: tuple[str, ...], *, by: User | None,
              hours: Decimal | float | str | None, now: dt.datetime) -> None:
    _move(assignment, sources, AssignmentStatus.COMPLETED, completed_at=now, completed_by=by)
    credit = hours_for(assignment, now) if hours is None else hours
    start = assignment.on_site_at or assignment.en_route_at or assignment.assigned_at
    reason = ("【演练】" if task.is_drill else "") + task.title
    entry = record_service_hours(assignment.user, task.area, credit, source=assignment, kind=ServiceHoursKind.TASK,
                                 created_by=by, reason=reason[:500], occurred_at=start)
    TaskAssignment.objects.filter(pk=assignment.pk).update(hours_entry=entry)
    assignment.hours_entry = entry
    if assignment.volunteer_id:
        record_offer_outcome(assignment.volunteer_id, OfferOutcome.COMPLETED)
    timeline.record(task, TaskEventKind.COMPLETED, actor=by, subject_id=assignment.user_id, at=now, hours=str(entry.hours))


def _all_places_done(task: Task) -> bool:
    people = TaskAssignment.objects.filter(task=task)
    done = people.filter(status=AssignmentStatus.COMPLETED).aggregate(n=Sum("people"))["n"] or 0
    return done >= task.headcount and not people.filter(status__in=ACTIVE_ASSIGNMENT_STATUSES).exists()


def complete_on_site(task: Task, now: dt.datetime, *, by: User | None) -> int:
    """When staff close a task: everyone on site did the work and is credited."""
    on_site = list(TaskAssignment.objects.filter(task=task, status=AssignmentStatus.ON_SITE).select_related("user"))
    for assignment in on_site:
        _complete(task, assignment, (AssignmentStatus.ON_SITE,), by=by, hours=None, now=now)
    return len(on_site)


def withdraw_from_task(assignment: TaskAssignment, *, reason: str = "", now: dt.datetime | None = None) -> TaskAssignment:
    """The person can no longer do it: the place reopens and dispatch resumes. Counts against
    their reliability (dropping a task after accepting it)."""
    now = now or timezone.now()
    with transaction.atomic():
        task = _free_place(assignment, AssignmentStatus.WITHDRAWN, now, reason=reason)
        if assignment.volunteer_id:
            record_offer_outcome(assignment.volunteer_id, OfferOutcome.WITHDRAWN)
        timeline.record(task, TaskEventKind.WITHDREW, actor=assignment.user, subject_id=assignment.user_id, at=now,
                        reason=(reason or "")[:500])
        reopen_place(task, now)
        timeline.publish_task(task, TaskEventKind.WITHDREW)
    return assignment


def remove_person(assignment: TaskAssignment, *, by: User, reason: str = "", now: dt.datetime | None = None) -> TaskAssignment:
    """Staff take someone off the task (no mark on their record); they are told."""
    now = now or timezone.now()
    with transaction.atomic():
        task = _free_place(assignment, AssignmentStatus.REMOVED, now, reason=reason)
        timeline.record(task, TaskEventKind.PERSON_REMOVED, actor=by, subject_id=assignment.user_id, at=now,
                        reason=(reason or "")[:500])
        tell_assignment_ended(task, assignment, "REMOVED")
        reopen_place(task, now, actor=by)
        timeline.publish_task(task, TaskEventKind.PERSON_REMOVED)
    return assignment


def _free_place(assignment: TaskAssignment, to: str, now: dt.datetime, *, reason: str) -> Task:
    if len(reason or "") > 500:
        raise ValidationError({"reason": "At most 500 characters."}, code=Code.INVALID)
    task = lock_task(assignment.task_id)
    require_open(task)
    _move(assignment, ACTIVE_ASSIGNMENT_STATUSES, to, ended_at=now, end_reason=(reason or "").strip())
    places = assignment.people  # a team's assignment holds several
    Task.objects.filter(pk=task.pk, filled_count__gte=places).update(filled_count=F("filled_count") - places, updated_at=now)
    task.filled_count = max(0, task.filled_count - places)
    return task


def end_active_assignments(task: Task, to: str, now: dt.datetime, *, by: User | None) -> int:
    """The task ended (cancelled, or closed before they arrived): release and tell them."""
    active = list(TaskAssignment.objects.filter(task=task, status__in=ACTIVE_ASSIGNMENT_STATUSES).select_related("user", "offer"))
    if not active:
        return 0
    TaskAssignment.objects.filter(pk__in=[a.pk for a in active], status__in=ACTIVE_ASSIGNMENT_STATUSES).update(status=to, ended_at=now)
    places = sum(a.people for a in active)
    Task.objects.filter(pk=task.pk).update(filled_count=F("filled_count") - places)
    task.filled_count -= places
    for assignment in active:
        assignment.status = to
        tell_assignment_ended(task, assignment, str(to))
    return len(active)


def finish_task(task: Task, now: dt.datetime, *, by: User | None) -> None:
    """DONE, with everyone on it settled (the task row is locked by the caller)."""
    move_task(task, TaskStatus.DONE, now, closed_at=now, dispatch_due_at=None)
    if by is not None:
        bump_version(task, now)
    withdraw_pending(task, WithdrawReason.CLOSED, now)
    complete_on_site(task, now, by=by)
    end_active_assignments(task, AssignmentStatus.RELEASED, now, by=by)
    timeline.record(task, TaskEventKind.CLOSED, actor=by, at=now)
    task_closed(task, TaskClosing(status=TaskStatus.DONE, at=now, by=by))
    timeline.publish_task(task, TaskEventKind.CLOSED)
