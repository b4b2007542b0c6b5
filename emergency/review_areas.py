"""The after-action report by area, down to each grid, and the work still open at report time.

    area_breakdown(area, checks, tasks) -> list[AreaRow]      # the area itself first (the total)
    open_work(area, checks, tasks, viewer) -> OpenWork

Safety-check rows are aggregated per grid in SQL (one query) and rolled up the tree in Python;
tasks likewise per area. "Reached" is answered, or the question's SMS delivered (a message
written is not a person reached); "unreachable" is a resident who could not be asked at all
(no app, no usable number) or whose only question, an SMS, failed.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from community.models import Area, User
from community.permissions import Action, can
from community.privacy import record_resident_reads
from notifications.models import SmsMessage, SmsStatus
from volunteers.models import (
    ACTIVE_TASK_STATUSES,
    Task,
    TaskAssignment,
    TaskPriority,
    TaskSource,
    TaskStatus,
)

from .models import SafetyCheck, SafetyState, SafetyStatus

OPEN_WORK_LISTED = 200
FAILED_SMS = (SmsStatus.FAILED, SmsStatus.UNDELIVERED, SmsStatus.REFUSED)
COUNTED = ("asked", "reached", "safe", "need_help", "silent", "unreachable", "vulnerable", "vulnerable_accounted",
           "welfare_visits", "welfare_visits_done")


@dataclass
class AreaRow:
    area: Area
    level: int  # 0: the report's area (the total), 1: its children, ...
    residents: int = 0
    asked: int = 0
    reached: int = 0
    safe: int = 0
    need_help: int = 0
    silent: int = 0
    unreachable: int = 0
    vulnerable: int = 0
    vulnerable_accounted: int = 0
    welfare_visits: int = 0
    welfare_visits_done: int = 0
    tasks_created: int = 0
    tasks_staffed: int = 0
    tasks_done: int = 0
    tasks_open: int = 0
    staff_waits: list[float] = field(default_factory=list, repr=False)
    help_to_site: list[float] = field(default_factory=list, repr=False)

    @property
    def median_seconds_to_staff(self) -> float | None:
        return statistics.median(self.staff_waits) if self.staff_waits else None

    @property
    def help_to_site_p50(self) -> float | None:
        return percentile(self.help_to_site, 0.5)

    @property
    def help_to_site_p90(self) -> float | None:
        return percentile(self.help_to_site, 0.9)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (p50 of 1..4 is 2): a value that happened, not an average."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered) - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def area_breakdown(area: Area, checks: list[SafetyCheck], tasks: QuerySet[Task]) -> list[AreaRow]:
    below = list(Area.objects.filter(path__startswith=area.path, depth__gt=area.depth).order_by("path"))
    rows = [AreaRow(area=area, level=0), *(AreaRow(area=a, level=a.depth - area.depth) for a in below)]
    by_path = {row.area.path: row for row in rows}
    _add_safety(area, checks, by_path)
    _add_tasks(tasks, by_path)
    return rows


def _holders(path: str, by_path: dict[str, AreaRow], steplen: int) -> list[AreaRow]:
    """The rows of the area at `path` and of every area above it in the report."""
    return [by_path[path[:i]] for i in range(steplen, len(path) + 1, steplen) if path[:i] in by_path]


def _add_safety(area: Area, checks: list[SafetyCheck], by_path: dict[str, AreaRow]) -> None:
    if not checks:
        return
    kind = ContentType.objects.get_for_model(SafetyStatus)
    question = SmsMessage.objects.filter(related_type=kind, related_id=Cast(OuterRef("pk"), CharField()))
    answered = ~Q(status=SafetyState.UNANSWERED)
    asked = Q(asked_by_push=True) | Q(asked_by_sms=True) | Q(called_at__isnull=False)
    unreachable = ~asked | (Q(asked_by_push=False, called_at__isnull=True, sms_failed=True) & ~answered)
    rows = (
        SafetyStatus.objects.filter(safety_check__in=checks, grid__path__startswith=area.path)
        .annotate(delivered=Exists(question.filter(status=SmsStatus.DELIVERED)),
                  sms_failed=Exists(question.filter(status__in=FAILED_SMS)),
                  visit_done=Exists(Task.objects.filter(pk=OuterRef("welfare_task_id"), status=TaskStatus.DONE)))
        .values("grid__path").order_by("grid__path")
        .annotate(
            residents=Count("pk"), asked=Count("pk", filter=asked), reached=Count("pk", filter=answered | Q(delivered=True) | Q(acknowledged_at__isnull=False)),
            safe=Count("pk", filter=Q(status=SafetyState.SAFE)), need_help=Count("pk", filter=Q(status=SafetyState.NEED_HELP)),
            silent=Count("pk", filter=Q(status=SafetyState.UNANSWERED)), unreachable=Count("pk", filter=unreachable),
            vulnerable=Count("pk", filter=Q(is_vulnerable=True)),
            vulnerable_accounted=Count("pk", filter=Q(is_vulnerable=True) & answered),
            welfare_visits=Count("pk", filter=Q(welfare_task_id__isnull=False)),
            welfare_visits_done=Count("pk", filter=Q(visit_done=True)),
        )
    )
    for row in rows:
        counts: dict[str, int] = {name: row[name] for name in ("residents", *COUNTED)}  # type: ignore[literal-required]  # the names are the annotations above
        for holder in _holders(row["grid__path"], by_path, Area.steplen):
            for name, value in counts.items():
                setattr(holder, name, getattr(holder, name) + value)


def _add_tasks(tasks: QuerySet[Task], by_path: dict[str, AreaRow]) -> None:
    values = list(tasks.values_list("pk", "area__path", "status", "created_at", "staffed_at", "priority", "source"))
    help_ids = [pk for pk, _, _, _, _, priority, source in values
                if priority == TaskPriority.LIFE_SAFETY and source == TaskSource.SAFETY_CHECK]
    on_site = dict(TaskAssignment.objects.filter(task_id__in=help_ids, on_site_at__isnull=False).values("task_id")
                   .annotate(first=Min("on_site_at")).values_list("task_id", "first"))
    for pk, path, status, created_at, staffed_at, _, _ in values:
        for holder in _holders(path, by_path, Area.steplen):
            holder.tasks_created += 1
            holder.tasks_done += status == TaskStatus.DONE
            holder.tasks_open += status in ACTIVE_TASK_STATUSES
            if staffed_at is not None:
                holder.tasks_staffed += 1
                holder.staff_waits.append((staffed_at - created_at).total_seconds())
            if pk in on_site:
                holder.help_to_site.append((on_site[pk] - created_at).total_seconds())


# --- open work --------------------------------------------------------------------------------
@dataclass
class OpenTask:
    task_id: int
    title: str
    area: str
    priority: str
    status: str
    filled: int
    headcount: int
    people_to_help: int
    created_at: dt.datetime


@dataclass
class SilentPerson:
    name: str
    grid: str
    check: str
    welfare_status: str | None  # the welfare visit's task status, None: none raised


@dataclass
class OpenWork:
    tasks: list[OpenTask]
    tasks_total: int
    silent_vulnerable: list[SilentPerson]
    silent_vulnerable_total: int


PRIORITY_ORDER = {TaskPriority.LIFE_SAFETY: 0, TaskPriority.URGENT: 1, TaskPriority.ROUTINE: 2}


def open_work(area: Area, checks: list[SafetyCheck], tasks: QuerySet[Task], viewer: User | None) -> OpenWork:
    """Tasks still open now (life-safety first, oldest first) and vulnerable residents still
    silent. A name is shown to staff who may see that grid's personal data, else masked."""
    open_tasks = tasks.filter(status__in=ACTIVE_TASK_STATUSES).select_related("area")
    listed = sorted(open_tasks, key=lambda t: (PRIORITY_ORDER.get(TaskPriority(t.priority), 3), t.created_at, t.pk))
    silent = (SafetyStatus.objects.filter(safety_check__in=checks, grid__path__startswith=area.path, is_vulnerable=True,
                                          status=SafetyState.UNANSWERED)
              .select_related("resident__grid", "grid", "safety_check").order_by("grid__path", "pk"))
    visits = dict(Task.objects.filter(pk__in=silent.filter(welfare_task_id__isnull=False).values("welfare_task_id"))
                  .values_list("pk", "status"))
    listed_silent = list(silent[:OPEN_WORK_LISTED])
    people = [
        SilentPerson(name=_name(row, viewer), grid=row.grid.name, check=row.safety_check.title,
                     welfare_status=visits.get(row.welfare_task_id) if row.welfare_task_id else None)
        for row in listed_silent
    ]
    if viewer is not None:  # a named vulnerable resident is a read of their vulnerability (access log)
        named = [row.resident for row in listed_silent if can(viewer, Action.VIEW_PERSONAL_DATA, row.grid)]
        record_resident_reads(viewer, named, {"vulnerability"})
    return OpenWork(
        tasks=[OpenTask(task_id=t.pk, title=t.title, area=t.area.name, priority=t.priority, status=t.status,
                        filled=t.filled_count, headcount=t.headcount, people_to_help=t.people_to_help, created_at=t.created_at)
               for t in listed[:OPEN_WORK_LISTED]],
        tasks_total=len(listed), silent_vulnerable=people, silent_vulnerable_total=silent.count(),
    )


def _name(row: SafetyStatus, viewer: User | None) -> str:
    name = row.resident.display_name
    if can(viewer, Action.VIEW_PERSONAL_DATA, row.grid):
        return name
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else "*"
