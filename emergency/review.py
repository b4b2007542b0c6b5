"""After-action review (复盘): what happened in an area during an emergency or a drill.

    after_action_report(area, since, until, drills=False, viewer=user) -> AfterActionReport

Drill data and real data are never mixed: `drills` selects one or the other. The report
reads the records themselves — switches, alerts, safety-check rows, tasks and offers (issue
6's data), mobilisation calls, outbox rows — so its numbers are the database's. Safety
checks started on an ancestor area count only the residents of this area's subtree. By
area down to each grid and the work still open: emergency.review_areas; messages by
purpose, lane and channel: emergency.review_messages. emergency.review_html renders it as a
self-contained HTML document with inline SVG charts, in the viewer's language;
emergency.review_files as PDF (the same HTML, by WeasyPrint) and XLSX.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from community.models import Area, ModeSwitch, User
from core.errors import field_error
from resources.review import ShelterReview, SuppliesReview, shelters_review, supplies_review
from volunteers.models import Task, TaskAssignment

from .error_codes import EmergencyErrorCode as Code
from .models import (
    Alert,
    AlertEscalation,
    Mobilisation,
    MobilisationKind,
    MobilisationResponse,
    SafetyCheck,
    SafetyState,
    SafetyStatus,
    WindDown,
)
from .review_areas import AreaRow, OpenWork, area_breakdown, open_work
from .review_messages import MessageReview, message_review
from .warnings.review import WarningsReview, warnings_review

MAX_PERIOD = dt.timedelta(days=366)
CURVE_POINTS = 48


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str  # "switch" | "alert" | "safety_check" | "wind_down" | "warning" | "facility"
    area: str
    title: str
    detail: str = ""
    codes: dict[str, Any] = field(default_factory=dict)  # the codes behind title/detail, for labels


@dataclass
class SafetyCheckReview:
    check: SafetyCheck
    total: int
    safe: int
    need_help: int
    unanswered: int
    vulnerable: int
    vulnerable_accounted: int
    vulnerable_unanswered: int
    welfare_tasks: int
    need_help_tasks: int
    seconds_to_90: float | None
    seconds_to_100: float | None
    curve: list[tuple[float, float]]  # (minutes since start, share accounted for 0..1)

    @property
    def accounted_for(self) -> int:
        return self.safe + self.need_help


@dataclass
class TaskReview:
    created: int = 0
    staffed: int = 0
    done: int = 0
    unstaffed: int = 0
    cancelled: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    median_seconds_to_staff: float | None = None
    p90_seconds_to_staff: float | None = None


@dataclass
class PeopleReview:
    volunteers_on_tasks: int = 0
    party_members_on_tasks: int = 0
    volunteers_called: int = 0
    party_members_called: int = 0
    answered_available: int = 0
    answered_unavailable: int = 0


@dataclass
class AfterActionReport:
    area: Area
    since: dt.datetime
    until: dt.datetime
    drills: bool
    timeline: list[TimelineEntry]
    safety_checks: list[SafetyCheckReview]
    tasks: TaskReview
    people: PeopleReview
    messages: MessageReview
    breakdown: list[AreaRow]  # the area itself first (the total), then every area below it to the grids
    open_work: OpenWork
    generated_at: dt.datetime = field(default_factory=timezone.now)
    # Who took the file away (a download: HTML, PDF, XLSX carry it; issue 21); empty on screen.
    exported_by: str = ""
    # Before and during (issue 20): supplies used and distributed, shelter occupancy over
    # time, warnings received and the time to decide. Filled by add_resources_and_warnings.
    supplies: SuppliesReview = field(default_factory=SuppliesReview)
    shelters: list[ShelterReview] = field(default_factory=list)
    warnings: WarningsReview = field(default_factory=WarningsReview)

    @property
    def total(self) -> AreaRow:
        return self.breakdown[0]


def check_period(since: dt.datetime, until: dt.datetime) -> None:
    if since is None or until is None or since >= until or until - since > MAX_PERIOD:
        raise field_error("until", "Give a period of at most a year, `since` before `until`.", Code.INVALID_PERIOD)


def _related_areas_q(area: Area, prefix: str = "area__path") -> Q:
    """The area, its subtree, and its ancestors (whose switches and alerts cover it)."""
    return Q(**{f"{prefix}__startswith": area.path}) | Q(**{f"{prefix}__in": area.ancestor_paths()})


def after_action_report(area: Area, since: dt.datetime, until: dt.datetime, *, drills: bool = False,
                        viewer: User | None = None) -> AfterActionReport:
    """`viewer`: whose eyes (names of silent vulnerable residents are masked for staff who may
    not see that grid's personal data)."""
    check_period(since, until)
    alerts = Alert.objects.filter(_related_areas_q(area), is_drill=drills, sent_at__range=(since, until))
    checks = list(SafetyCheck.objects.filter(_related_areas_q(area), is_drill=drills, started_at__range=(since, until))
                  .select_related("area").order_by("started_at"))
    tasks = _tasks(area, since, until, drills)
    mobilisations = Mobilisation.objects.filter(_related_areas_q(area), is_drill=drills, notified_at__range=(since, until))
    return add_resources_and_warnings(AfterActionReport(
        area=area, since=since, until=until, drills=drills,
        timeline=_timeline(area, since, until, drills, alerts, checks),
        safety_checks=[_review_check(check, area) for check in checks],
        tasks=_task_review(tasks), people=_people(tasks, mobilisations),
        messages=message_review(area.path, alerts, checks, tasks, mobilisations, drills),
        breakdown=area_breakdown(area, checks, tasks), open_work=open_work(area, checks, tasks, viewer),
    ))


def _timeline(area: Area, since: dt.datetime, until: dt.datetime, drills: bool, alerts: QuerySet[Alert],
              checks: list[SafetyCheck]) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(s.switched_at, "switch", s.area.name, f"{s.from_mode} → {s.to_mode}", s.reason,
                      {"from": s.from_mode, "to": s.to_mode})
        for s in ModeSwitch.objects.filter(_related_areas_q(area), is_drill=drills, switched_at__range=(since, until))
        .select_related("area")
    ]
    entries += [TimelineEntry(a.sent_at, "alert", a.area.name, f"{a.msg_type}: {a.headline}", f"{a.severity}/{a.urgency}",
                              {"msg_type": a.msg_type, "headline": a.headline, "severity": a.severity, "urgency": a.urgency})
                for a in alerts.select_related("area")]
    entries += [TimelineEntry(c.started_at, "safety_check", c.area.name, c.title, "", {}) for c in checks]
    entries += _rung_entries(area, checks)
    entries += _alert_rung_entries(area, alerts)
    entries += [TimelineEntry(w.created_at, "wind_down", w.area.name, w.cause, _wind_down_detail(w),
                              {"cause": w.cause, **_closed(w)})
                for w in WindDown.objects.filter(_related_areas_q(area), is_drill=drills, created_at__range=(since, until))
                .select_related("area")]
    return sorted(entries, key=lambda e: e.at)


RUNG_FIELDS = (("push", "pushed_at"), ("sms", "texted_at"), ("voice", "called_at"))


def _rung_entries(area: Area, checks: list[SafetyCheck]) -> list[TimelineEntry]:
    """Every rung of the escalation ladder a check took is a timeline event: when it was
    first taken and for how many residents of the report's area."""
    entries: list[TimelineEntry] = []
    for check in checks:
        rows = SafetyStatus.objects.filter(safety_check=check, grid__path__startswith=area.path)
        taken = {"push": Q(pushed_at__isnull=False), "sms": Q(asked_by_sms=True), "voice": Q(called_at__isnull=False)}
        agg = rows.aggregate(**{f"{rung}_n": Count("pk", filter=taken[rung]) for rung, _ in RUNG_FIELDS},
                             **{f"{rung}_at": Min(name, filter=taken[rung]) for rung, name in RUNG_FIELDS})
        for rung, _ in RUNG_FIELDS:
            if agg[f"{rung}_n"]:
                entries.append(TimelineEntry(agg[f"{rung}_at"], "escalation", check.area.name,
                                             f"{rung}: {agg[f'{rung}_n']}", check.title, {"rung": rung, "n": agg[f"{rung}_n"]}))
    return entries


def _alert_rung_entries(area: Area, alerts: QuerySet[Alert]) -> list[TimelineEntry]:
    """An alert's SMS rung (a push nobody opened, texted later: emergency/alert_escalation.py)
    is a timeline event too: when it was first taken and for how many residents of the area."""
    rows = (AlertEscalation.objects.filter(alert__in=alerts, texted=True, resident__grid__path__startswith=area.path)
            .values("alert_id").annotate(n=Count("pk"), at=Min("escalated_at")))
    taken = {row["alert_id"]: row for row in rows}
    return [TimelineEntry(taken[a.pk]["at"], "escalation", a.area.name, f"sms: {taken[a.pk]['n']}", a.headline,
                          {"rung": "sms", "n": taken[a.pk]["n"]})
            for a in alerts.filter(pk__in=list(taken)).select_related("area")]


WIND_DOWN_COUNTS = ("tasks_cancelled", "offers_withdrawn", "messages_superseded", "alerts_cancelled", "alerts_expired",
                    "safety_checks_closed")


def _closed(wind_down: WindDown) -> dict[str, int]:
    counts = wind_down.fanout_counts or {}
    return {**{k: int(counts.get(k, 0)) for k in WIND_DOWN_COUNTS}, "kept": len(wind_down.kept)}


def _wind_down_detail(wind_down: WindDown) -> str:
    return ", ".join(f"{k}={v}" for k, v in _closed(wind_down).items())


def _review_check(check: SafetyCheck, area: Area) -> SafetyCheckReview:
    rows = SafetyStatus.objects.filter(safety_check=check, grid__path__startswith=area.path)
    accounted = ~Q(status=SafetyState.UNANSWERED)
    agg = rows.aggregate(
        total=Count("pk"), safe=Count("pk", filter=Q(status=SafetyState.SAFE)),
        need_help=Count("pk", filter=Q(status=SafetyState.NEED_HELP)), vulnerable=Count("pk", filter=Q(is_vulnerable=True)),
        vulnerable_accounted=Count("pk", filter=Q(is_vulnerable=True) & accounted),
        welfare=Count("pk", filter=Q(welfare_task_id__isnull=False)),
        need_help_tasks=Count("pk", filter=Q(need_help_task_id__isnull=False)),
    )
    times = sorted(t for t in rows.filter(first_answered_at__isnull=False).values_list("first_answered_at", flat=True)
                   if t is not None)
    total = agg["total"]
    return SafetyCheckReview(
        check=check, total=total, safe=agg["safe"], need_help=agg["need_help"],
        unanswered=total - agg["safe"] - agg["need_help"], vulnerable=agg["vulnerable"],
        vulnerable_accounted=agg["vulnerable_accounted"], vulnerable_unanswered=agg["vulnerable"] - agg["vulnerable_accounted"],
        welfare_tasks=agg["welfare"], need_help_tasks=agg["need_help_tasks"],
        seconds_to_90=_seconds_to_share(check.started_at, times, total, 0.9),
        seconds_to_100=_seconds_to_share(check.started_at, times, total, 1.0), curve=_curve(check.started_at, times, total),
    )


def _seconds_to_share(start: dt.datetime, times: list[dt.datetime], total: int, share: float) -> float | None:
    needed = math.ceil(total * share - 1e-9)
    if total == 0 or needed == 0 or len(times) < needed:
        return None
    return max(0.0, (times[needed - 1] - start).total_seconds())


def _curve(start: dt.datetime, times: list[dt.datetime], total: int) -> list[tuple[float, float]]:
    """Share accounted for over time, at most CURVE_POINTS points (plus the start)."""
    if not total:
        return []
    points = [(0.0, 0.0)]
    step = max(1, len(times) // CURVE_POINTS)
    for index in range(step - 1, len(times), step):
        points.append(((times[index] - start).total_seconds() / 60, (index + 1) / total))
    if times and points[-1][1] != len(times) / total:
        points.append(((times[-1] - start).total_seconds() / 60, len(times) / total))
    return points


def _tasks(area: Area, since: dt.datetime, until: dt.datetime, drills: bool) -> QuerySet[Task]:
    return Task.objects.filter(area__path__startswith=area.path, is_drill=drills, created_at__range=(since, until))


def _task_review(tasks: QuerySet[Task]) -> TaskReview:
    rows = list(tasks.values_list("status", "source", "created_at", "staffed_at"))
    review = TaskReview(created=len(rows))
    waits: list[float] = []
    for status, source, created_at, staffed_at in rows:
        review.by_source[source] = review.by_source.get(source, 0) + 1
        review.done += status == "DONE"
        review.unstaffed += status == "UNSTAFFED"
        review.cancelled += status == "CANCELLED"
        if staffed_at is not None:
            review.staffed += 1
            waits.append((staffed_at - created_at).total_seconds())
    if waits:
        waits.sort()
        review.median_seconds_to_staff = statistics.median(waits)
        review.p90_seconds_to_staff = waits[min(len(waits) - 1, int(0.9 * len(waits)))]
    return review


def _people(tasks: QuerySet[Task], mobilisations: QuerySet[Mobilisation]) -> PeopleReview:
    held = TaskAssignment.objects.filter(task__in=tasks).exclude(status__in=["REMOVED", "CANCELLED"])
    volunteers = set(held.filter(volunteer__isnull=False).values_list("user_id", flat=True))
    others = set(held.filter(volunteer__isnull=True).values_list("user_id", flat=True)) - volunteers
    calls = mobilisations.values("kind", "response").annotate(n=Count("user_id", distinct=True))
    review = PeopleReview(volunteers_on_tasks=len(volunteers), party_members_on_tasks=len(others))
    for row in calls:
        if row["kind"] == MobilisationKind.VOLUNTEER:
            review.volunteers_called += row["n"]
        else:
            review.party_members_called += row["n"]
        review.answered_available += row["n"] if row["response"] == MobilisationResponse.AVAILABLE else 0
        review.answered_unavailable += row["n"] if row["response"] == MobilisationResponse.UNAVAILABLE else 0
    return review


def add_resources_and_warnings(report: AfterActionReport) -> AfterActionReport:
    """The report's sections on supplies, shelters and incoming warnings, from their apps."""
    area, since, until, drills = report.area, report.since, report.until, report.drills
    report.supplies = supplies_review(area, since, until, drills=drills)
    report.shelters = shelters_review(area, since, until, drills=drills)
    report.warnings = warnings_review(area, since, until, drills=drills)
    report.timeline = sorted(report.timeline + _warning_entries(report.warnings) + _facility_entries(report.shelters),
                             key=lambda e: e.at)
    return report


def _warning_entries(review: WarningsReview) -> list[TimelineEntry]:
    return [TimelineEntry(e.warning.received_at, "warning", "、".join(e.areas) or "—",
                          f"{e.warning.msg_type}: {e.warning.headline or e.warning.event}",
                          f"{e.warning.severity}/{e.warning.urgency} ({e.warning.sender})")
            for e in review.entries]


def _facility_entries(shelters: list[ShelterReview]) -> list[TimelineEntry]:
    """Shelters opening and closing (check-ins are in the occupancy curves)."""
    return [TimelineEntry(e.at, "facility", s.facility.area.name, f"{s.facility.name} {e.kind}", e.reason)
            for s in shelters for e in s.status_changes]
