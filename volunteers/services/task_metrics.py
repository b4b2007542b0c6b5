"""Learning from dispatch: per task and per area over a period (drills kept apart).

Definitions (also in mobile_api_docs/tasks.md):
- time to first acceptance: from the start of dispatch (task creation for automatic tasks)
  to the first "yes" that got a place;
- time to fully staffed: from the same start to the first moment every place was filled;
- offers per filled place: offers sent / places ever filled (by an offer or by staff);
- acceptance rate: (accepted + late) / offers that ran their course (answered or expired —
  offers withdrawn before an answer, or still pending, do not count);
- expiry rate: expired / offers that ran their course; decline rate likewise.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, QuerySet
from django.utils import timezone

from community.models import Area
from core.errors import ValidationError

from ..error_codes import VolunteersErrorCode as Code
from ..models import Offer, OfferStatus, Task, TaskAssignment, TaskEvent, TaskEventKind, local_date
from .hours import local_range_q

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


class DrillFilter(StrEnum):
    EXCLUDE = "EXCLUDE"  # real tasks only (the default)
    ONLY = "ONLY"  # drills only
    INCLUDE = "INCLUDE"  # both


@dataclass(frozen=True)
class OfferCounts:
    offers: int = 0
    accepted: int = 0
    late: int = 0
    declined: int = 0
    expired: int = 0
    withdrawn: int = 0
    pending: int = 0

    @classmethod
    def of(cls, by_status: Counter[str]) -> OfferCounts:
        return cls(
            offers=sum(by_status.values()), accepted=by_status[OfferStatus.ACCEPTED], late=by_status[OfferStatus.LATE],
            declined=by_status[OfferStatus.DECLINED], expired=by_status[OfferStatus.EXPIRED],
            withdrawn=by_status[OfferStatus.WITHDRAWN], pending=by_status[OfferStatus.PENDING],
        )

    @property
    def ran_their_course(self) -> int:
        return self.accepted + self.late + self.declined + self.expired

    def rate(self, part: int) -> float | None:
        return round(part / self.ran_their_course, 4) if self.ran_their_course else None


@dataclass(frozen=True)
class TaskMetrics:
    counts: OfferCounts
    waves: int
    radius_m: int
    filled_places: int
    seconds_to_first_acceptance: float | None
    seconds_to_staffed: float | None

    @property
    def offers_per_filled_place(self) -> float | None:
        return round(self.counts.offers / self.filled_places, 3) if self.filled_places else None

    @property
    def acceptance_rate(self) -> float | None:
        return self.counts.rate(self.counts.accepted + self.counts.late)

    @property
    def expiry_rate(self) -> float | None:
        return self.counts.rate(self.counts.expired)

    @property
    def decline_rate(self) -> float | None:
        return self.counts.rate(self.counts.declined)


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    return None if start is None or end is None else round(max(0.0, (end - start).total_seconds()), 1)


def dispatch_start(task: Task) -> dt.datetime:
    return task.dispatch_started_at or task.created_at


def task_metrics(task: Task, offers: list[Offer] | None = None, assignments: list[TaskAssignment] | None = None) -> TaskMetrics:
    """One task's figures; pass its prefetched offers and assignments to avoid queries."""
    if offers is not None:
        by_status = Counter(str(o.status) for o in offers)
    else:
        by_status = Counter(dict(Offer.objects.filter(task=task).values_list("status").annotate(n=Count("id")).order_by()))
    filled = len(assignments) if assignments is not None else TaskAssignment.objects.filter(task=task).count()
    return TaskMetrics(
        counts=OfferCounts.of(by_status), waves=task.wave_count, radius_m=task.radius_m, filled_places=filled,
        seconds_to_first_acceptance=_seconds(dispatch_start(task), task.first_accepted_at),
        seconds_to_staffed=_seconds(dispatch_start(task), task.staffed_at),
    )


@dataclass(frozen=True)
class AreaDispatchMetrics:
    area: Area
    start: dt.date
    end: dt.date
    drills: str
    tasks: int
    by_status: dict[str, int]
    ever_staffed: int
    ever_unstaffed: int
    counts: OfferCounts
    filled_places: int
    median_seconds_to_first_acceptance: float | None
    p90_seconds_to_first_acceptance: float | None
    median_seconds_to_staffed: float | None
    p90_seconds_to_staffed: float | None

    @property
    def offers_per_filled_place(self) -> float | None:
        return round(self.counts.offers / self.filled_places, 3) if self.filled_places else None

    @property
    def acceptance_rate(self) -> float | None:
        return self.counts.rate(self.counts.accepted + self.counts.late)

    @property
    def expiry_rate(self) -> float | None:
        return self.counts.rate(self.counts.expired)

    @property
    def decline_rate(self) -> float | None:
        return self.counts.rate(self.counts.declined)


def resolve_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    end = end or local_date(timezone.now())
    start = start or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise ValidationError({"from": "The period starts after it ends."}, code=Code.INVALID_DATE_RANGE)
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError({"from": f"At most {MAX_PERIOD_DAYS} days at once."}, code=Code.INVALID_DATE_RANGE)
    return start, end


def tasks_in(area: Area, start: dt.date, end: dt.date, drills: str = DrillFilter.EXCLUDE) -> QuerySet[Task]:
    tasks = Task.objects.filter(area__path__startswith=area.path).filter(local_range_q(start, end, "created_at"))
    if drills == DrillFilter.EXCLUDE:
        tasks = tasks.filter(is_drill=False)
    elif drills == DrillFilter.ONLY:
        tasks = tasks.filter(is_drill=True)
    return tasks


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 1)


def area_dispatch_metrics(area: Area, start: dt.date | None = None, end: dt.date | None = None,
                          drills: str = DrillFilter.EXCLUDE) -> AreaDispatchMetrics:
    """Tasks created in `area`'s subtree between start and end (local dates, inclusive), in a
    handful of grouped queries whatever their number."""
    start, end = resolve_period(start, end)
    drills = DrillFilter(getattr(drills, "value", drills))
    tasks = tasks_in(area, start, end, drills)
    rows = list(tasks.values_list("status", "created_at", "dispatch_started_at", "first_accepted_at", "staffed_at"))
    to_first, to_staffed = [], []
    for _status, created, started, first, staffed in rows:
        if (s := _seconds(started or created, first)) is not None:
            to_first.append(s)
        if (s := _seconds(started or created, staffed)) is not None:
            to_staffed.append(s)
    offers = Counter(dict(Offer.objects.filter(task__in=tasks).values_list("status").annotate(n=Count("id")).order_by()))
    return AreaDispatchMetrics(
        area=area, start=start, end=end, drills=drills.value, tasks=len(rows),
        by_status=dict(Counter(r[0] for r in rows)), ever_staffed=len(to_staffed),
        ever_unstaffed=TaskEvent.objects.filter(task__in=tasks, kind=TaskEventKind.UNSTAFFED).values("task_id").distinct().count(),
        counts=OfferCounts.of(offers), filled_places=TaskAssignment.objects.filter(task__in=tasks).count(),
        median_seconds_to_first_acceptance=round(statistics.median(to_first), 1) if to_first else None,
        p90_seconds_to_first_acceptance=_percentile(to_first, 0.9),
        median_seconds_to_staffed=round(statistics.median(to_staffed), 1) if to_staffed else None,
        p90_seconds_to_staffed=_percentile(to_staffed, 0.9),
    )
