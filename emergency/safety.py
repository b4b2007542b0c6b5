"""Safety checks (报平安): start one, fan the question out, close it, and count answers.

    start_safety_check(area, by=user, title="台风报平安", is_drill=False)
    safety_counts(check) -> SafetyCounts          # per area and per grid, a few SQL aggregates
    statuses_vulnerable_first(check)              # the staff list

Starting writes the SafetyCheck row only (fast, whatever the size of the area); the fan-out
then runs in Celery (the life_safety queue), chunked and resumable: one UNANSWERED status row
per resident (bulk, idempotent on (check, resident)) and the question — the vulnerable
residents' rows and questions first, then everybody else's — by push to those with a live
device, by a voice call to those who cannot read SMS (prefers_voice) and by SMS (expects_reply,
purpose "safety_check", lane LIFE_SAFETY, vulnerable first within it) to the others
(emergency/reach.py); the escalation ladder's later rungs run in emergency/escalation.py. Each
row's `asked_at` is when the question reached them (a push or the SMS handed to a provider,
a call ended: the handlers in safety_answers and escalation); a resident who cannot be asked
at all (no live device, no phone, opted out, a number carriers report dead) is
`unreachable_at` at once, and a vulnerable one goes straight to the welfare-visit list. Closing the check stops its fan-out and drops the questions not yet handed over.
Answers: emergency.safety_answers.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from community.models import AREA_KIND_DEPTH, Area, AreaKind, Resident, User
from core.bulk import insert_select
from core.enqueue import enqueue_on_commit
from core.errors import field_error
from core.text import clean_text
from notifications import events
from notifications.error_codes import SmsErrorCode
from notifications.lanes import lane_for
from notifications.models import SmsMessage, SmsStatus
from notifications.outbox import SmsItem, queue_sms_bulk, supersede_messages
from notifications.realtime import publish_on_commit

from .drills import covering_drill
from .error_codes import EmergencyErrorCode as Code
from .fanout import FAN_OUT_SAFETY_CHECK, bump
from .models import (
    Drill,
    PlanStep,
    SafetyCheck,
    SafetyCheckStatus,
    SafetyState,
    SafetyStatus,
    UnreachableReason,
)
from .reach import call_question, first_rungs, ladder_of, push_question

# The Celery task that raises welfare visits for one check now (emergency/tasks.py).
REQUEST_WELFARE_CHECKS = "community.tasks.request_welfare_checks"

MAX_WELFARE_MINUTES = 7 * 24 * 60


def check_start(title: str, welfare_after_minutes: object) -> tuple[str, int]:
    title = clean_text(title, "title", 100)
    minutes = settings.SAFETY_WELFARE_AFTER_MINUTES if welfare_after_minutes is None else welfare_after_minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= MAX_WELFARE_MINUTES:
        raise field_error("welfare_after_minutes", "Between 5 minutes and 7 days.", Code.INVALID)
    return title, minutes


def start_safety_check(area: Area, *, by: User | None, title: str = "", is_drill: bool = False,
                       welfare_after_minutes: int | None = None, plan_step: PlanStep | None = None,
                       drill: Drill | None = None) -> SafetyCheck:
    """A drill check is tied to `drill`, else to the drill covering the area (if any)."""
    title, minutes = check_start(title, welfare_after_minutes)
    now = timezone.now()
    if is_drill and drill is None:
        drill = covering_drill(area)
    with transaction.atomic():
        check = SafetyCheck.objects.create(
            area=area, title=title or f"{area.name}报平安", is_drill=is_drill, drill=drill if is_drill else None,
            started_by=by, plan_step=plan_step,
            started_at=now, welfare_after_minutes=minutes, welfare_due_at=now + dt.timedelta(minutes=minutes),
            reply_until=now + dt.timedelta(hours=settings.SAFETY_REPLY_HOURS),
            resident_count=Resident.objects.in_area(area).count(),
        )
        publish_check_event(check, "started")
        check_id = check.pk
        enqueue_on_commit(FAN_OUT_SAFETY_CHECK, check_id)
    return check


def publish_check_event(check: SafetyCheck, change: str, **extra: object) -> None:
    publish_on_commit(events.safety_check_group(check.pk), events.make_event(
        events.SAFETY_CHECK_UPDATED, safetyCheckId=check.pk, areaId=check.area_id, change=change,
        isDrill=check.is_drill, **extra,
    ))


def close_safety_check(check: SafetyCheck, *, by: User | None) -> SafetyCheck:
    """Stop the fan-out and the welfare sweep, and drop the questions not yet handed to a
    carrier; late answers are still recorded (and still raise tasks)."""
    with transaction.atomic():
        if not close_with_counts(check, by=by):
            raise field_error("safety_check_id", "This safety check is already closed.", Code.SAFETY_CHECK_CLOSED)
        check.refresh_from_db()
    return check


def close_with_counts(check: SafetyCheck, *, by: User | None) -> bool:
    """Close the check if it is active (True then) and keep its counts as they were at that
    moment (final_counts; also for a check a switch closed before, without them). Its
    questions not yet handed to a carrier are dropped: nobody is asked about a closed check."""
    with transaction.atomic():
        closed = SafetyCheck.objects.filter(pk=check.pk, status=SafetyCheckStatus.ACTIVE).update(
            status=SafetyCheckStatus.CLOSED, closed_at=timezone.now(), closed_by=by)
        if closed or not check.final_counts:
            check.final_counts = tally_dict(safety_counts(check).overall)
            SafetyCheck.objects.filter(pk=check.pk).update(final_counts=check.final_counts)
        if closed:
            check.status = SafetyCheckStatus.CLOSED
            supersede_messages(SafetyStatus.objects.filter(safety_check=check), reason="safety check closed")
            publish_check_event(check, "closed")
    return bool(closed)


def close_checks(checks: QuerySet[SafetyCheck], *, by: User | None) -> int:
    """close_with_counts for each active check among `checks`; how many were closed."""
    return sum(close_with_counts(check, by=by) for check in checks.filter(status=SafetyCheckStatus.ACTIVE))


def tally_dict(tally: Tally) -> dict[str, int]:
    return {"total": tally.total, "safe": tally.safe, "need_help": tally.need_help, "unanswered": tally.unanswered,
            "vulnerable": tally.vulnerable, "vulnerable_accounted": tally.vulnerable_accounted,
            "unreachable": tally.unreachable, "pushed": tally.pushed, "acknowledged": tally.acknowledged,
            "texted": tally.texted, "called": tally.called, "reached": tally.reached}


# --- fan-out ----------------------------------------------------------------------------------
# The vulnerable residents' rows, then their questions — out within seconds, whatever the size
# of the area —, then everybody else's rows and questions. ("rows", all residents at once, is
# the first phase of checks started before this order; it goes on to ask_vulnerable.)
PHASES = ("rows_vulnerable", "ask_vulnerable", "rows_others", "ask_others")
NEXT_PHASE = {**dict(zip(PHASES, PHASES[1:], strict=False)), "rows": "ask_vulnerable"}
ROWS_OF_PHASE: dict[str, bool | None] = {"rows_vulnerable": True, "rows_others": False, "rows": None}


def safety_check_chunk(check: SafetyCheck) -> bool:
    phase = check.fanout_phase or PHASES[0]
    check.fanout_phase = phase
    if phase in ROWS_OF_PHASE:
        done_with_phase = _create_rows(check, vulnerable=ROWS_OF_PHASE[phase])
    else:
        done_with_phase = _ask(check, vulnerable=phase == "ask_vulnerable")
    _publish_progress(check, phase, done_with_phase)
    if not done_with_phase:
        return False
    if phase not in NEXT_PHASE:
        return True
    check.fanout_phase, check.fanout_cursor = NEXT_PHASE[phase], 0
    return False


_last_progress: dict[int, float] = {}


def _publish_progress(check: SafetyCheck, phase: str, phase_done: bool) -> None:
    """Live counts follow the fan-out: after a chunk commits, staff watching the check get
    fresh counts (rows created, people asked, unreachable ones). Coalesced here, at most one
    event per SAFETY_PUSH_INTERVAL_SECONDS per check and process, plus one as each phase
    ends; the subscription coalesces again per subscriber."""
    now = time.monotonic()
    if not phase_done and now - _last_progress.get(check.pk, 0.0) < settings.SAFETY_PUSH_INTERVAL_SECONDS:
        return
    _last_progress[check.pk] = now
    if len(_last_progress) > 1000:
        _last_progress.clear()
    publish_check_event(check, "fanout", phase=phase)


def _create_rows(check: SafetyCheck, *, vulnerable: bool | None) -> bool:
    """One chunk of status rows (of the vulnerable residents, the others, or — None — all),
    written by the database from the residents (INSERT … SELECT, idempotent on (check,
    resident))."""
    residents_qs = Resident.objects.in_area(check.area).filter(pk__gt=check.fanout_cursor)
    if vulnerable is not None:
        residents_qs = residents_qs.filter(is_vulnerable=vulnerable)
    ids = list(residents_qs.order_by("pk").values_list("pk", flat=True)[: settings.EMERGENCY_SAFETY_CHECK_CHUNK])
    if not ids:
        return True
    insert_select(SafetyStatus, residents_qs.filter(pk__lte=ids[-1]), {
        "safety_check_id": Value(check.pk), "resident_id": F("pk"), "grid_id": F("grid_id"),
        "is_vulnerable": F("is_vulnerable")}, ignore_conflicts=True)
    bump(check.fanout_counts, rows=len(ids))
    check.fanout_cursor = ids[-1]
    return False


def _ask(check: SafetyCheck, *, vulnerable: bool) -> bool:
    if SafetyCheck.objects.filter(pk=check.pk, status=SafetyCheckStatus.CLOSED).exists():
        return True  # closed (the check, or the footing ended): nobody else is asked
    ids = list(SafetyStatus.objects.filter(safety_check=check, is_vulnerable=vulnerable, pk__gt=check.fanout_cursor)
               .order_by("pk").values_list("pk", flat=True)[: settings.EMERGENCY_SAFETY_CHECK_CHUNK])
    if not ids:
        return True
    # The chunk's rows still unanswered (answered early: not asked), as a query: the push rung
    # is written by the database for all of them at once.
    window = SafetyStatus.objects.filter(safety_check=check, is_vulnerable=vulnerable, pk__gt=check.fanout_cursor,
                                         pk__lte=ids[-1], status=SafetyState.UNANSWERED)
    check.fanout_cursor = ids[-1]
    now = timezone.now()
    open_ids = set(window.values_list("pk", flat=True))
    # Channel choice (emergency/reach.py): push to a live device, a call for those who cannot
    # read SMS, SMS for the rest; later rungs are the escalation sweep's.
    push_q, sms_q, voice_q = first_rungs(window, ladder_of(check), now)
    pushed = set(push_question(check, push_q, now))
    voice_rows = list(voice_q.select_related("resident__user").order_by("pk"))
    call_question(check, voice_rows, now)
    # A number that texted STOP, or that carriers report dead, gets nothing (the outbox
    # records the refusal): not asked by SMS.
    sms_rows = list(sms_q.select_related("resident__user").order_by("pk"))
    refused = _queue_questions(check, sms_rows)
    texted = [r.pk for r in sms_rows if r.pk not in refused]
    SafetyStatus.objects.filter(pk__in=texted).update(asked_by_sms=True, texted_at=now)
    # No live device, no call and no phone that takes SMS: staff must go in person, at once.
    cannot = {pk: refused.get(pk, UnreachableReason.NO_PHONE)
              for pk in open_ids - pushed - {r.pk for r in voice_rows} - set(texted)}
    mark_unreachable(check, cannot, vulnerable=sorted(cannot) if vulnerable else [], now=now)
    bump(check.fanout_counts, asked=len(open_ids), pushed=len(pushed), sms=len(texted), voice=len(voice_rows),
         unreachable=len(cannot))
    return False


REFUSAL_REASONS: dict[str, str] = {SmsErrorCode.OPTED_OUT: UnreachableReason.OPTED_OUT,
                                   SmsErrorCode.UNREACHABLE: UnreachableReason.UNDELIVERABLE}


def _queue_questions(check: SafetyCheck, rows: list[SafetyStatus]) -> dict[int, str]:
    """Queue the SMS questions; returns the rows the outbox refused, with why."""
    if not rows:
        return {}
    items = [_sms_item(check, r) for r in rows]
    queue_sms_bulk(items)
    by_key = {item["idempotency_key"]: row.pk for item, row in zip(items, rows, strict=True)}
    refusals = SmsMessage.objects.filter(idempotency_key__in=list(by_key), status=SmsStatus.REFUSED)
    return {by_key[key]: REFUSAL_REASONS.get(code, UnreachableReason.NO_PHONE)
            for key, code in refusals.values_list("idempotency_key", "error_code")}


def mark_unreachable(check: SafetyCheck, reasons: dict[int, str], *, vulnerable: list[int], now: dt.datetime) -> int:
    """Rows nobody can ask are unreachable now (counted at once); a vulnerable one is due a
    welfare visit at once (the request runs after commit)."""
    marked = 0
    for reason in set(reasons.values()):
        ids = [pk for pk, why in reasons.items() if why == reason]
        marked += SafetyStatus.objects.filter(pk__in=ids, unreachable_at__isnull=True).update(
            unreachable_at=now, unreachable_reason=reason)
    if vulnerable and check.status == SafetyCheckStatus.ACTIVE:
        enqueue_on_commit(REQUEST_WELFARE_CHECKS, check.pk)
    return marked


def _sms_item(check: SafetyCheck, row: SafetyStatus) -> SmsItem:
    resident = row.resident
    return SmsItem(
        template="emergency.safety.sms", context={"title": check.title}, purpose="safety_check",
        idempotency_key=f"safety:{check.pk}:{resident.pk}", phone=resident.sms_phone, language=resident.language,
        related=row, is_drill=check.is_drill, expects_reply=True, reply_until=check.reply_until,
        lane=lane_for("safety_check"), is_vulnerable=row.is_vulnerable,
    )


# --- counts -----------------------------------------------------------------------------------
@dataclass
class Tally:
    total: int = 0
    safe: int = 0
    need_help: int = 0
    vulnerable: int = 0
    vulnerable_accounted: int = 0
    unreachable: int = 0  # unanswered and not reachable at all (no app, no phone that takes SMS)
    # Reach per rung of the ladder (emergency/escalation.py): asked by push, by SMS, by a
    # call; pushes opened; reached = answered or push opened (not merely written).
    pushed: int = 0
    acknowledged: int = 0
    texted: int = 0
    called: int = 0
    reached: int = 0

    @property
    def accounted_for(self) -> int:
        return self.safe + self.need_help

    @property
    def unanswered(self) -> int:
        return max(0, self.total - self.accounted_for)

    def add(self, other: Tally) -> None:
        for name in TALLY_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


TALLY_FIELDS = ("total", "safe", "need_help", "vulnerable", "vulnerable_accounted", "unreachable", "pushed",
                "acknowledged", "texted", "called", "reached")


@dataclass
class AreaTally:
    area: Area
    tally: Tally


@dataclass
class SafetyCounts:
    check: SafetyCheck
    overall: Tally
    by_area: list[AreaTally] = field(default_factory=list)  # the check's area and those between it and the grids
    by_grid: list[AreaTally] = field(default_factory=list)


def safety_counts(check: SafetyCheck) -> SafetyCounts:
    """Live counts: one aggregate over the status rows grouped by grid, then rolled up the
    tree in Python (two small queries for the areas' names and paths)."""
    accounted = ~Q(status=SafetyState.UNANSWERED)
    rows = (
        SafetyStatus.objects.filter(safety_check=check).values("grid_id").order_by("grid_id").annotate(
            total=Count("pk"), safe=Count("pk", filter=Q(status=SafetyState.SAFE)),
            need_help=Count("pk", filter=Q(status=SafetyState.NEED_HELP)),
            vulnerable=Count("pk", filter=Q(is_vulnerable=True)),
            vulnerable_accounted=Count("pk", filter=Q(is_vulnerable=True) & accounted),
            unreachable=Count("pk", filter=Q(status=SafetyState.UNANSWERED, unreachable_at__isnull=False)),
            pushed=Count("pk", filter=Q(pushed_at__isnull=False)),
            acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            texted=Count("pk", filter=Q(asked_by_sms=True)),
            called=Count("pk", filter=Q(called_at__isnull=False)),
            reached=Count("pk", filter=accounted | Q(acknowledged_at__isnull=False)),
        )
    )
    per_grid = {
        r["grid_id"]: Tally(total=r["total"], safe=r["safe"], need_help=r["need_help"], vulnerable=r["vulnerable"],
                            vulnerable_accounted=r["vulnerable_accounted"], unreachable=r["unreachable"],
                            pushed=r["pushed"], acknowledged=r["acknowledged"], texted=r["texted"], called=r["called"],
                            reached=r["reached"])
        for r in rows
    }
    grids = Area.objects.in_bulk(list(per_grid))
    between = list(Area.objects.filter(path__startswith=check.area.path, kind__in=_between_kinds(check.area)).order_by("path"))
    overall = Tally()
    by_area = {a.pk: AreaTally(a, Tally()) for a in [check.area, *between]}
    for grid_id, tally in per_grid.items():
        overall.add(tally)
        grid = grids.get(grid_id)
        for holder in by_area.values():
            if grid is not None and grid.path.startswith(holder.area.path):
                holder.tally.add(tally)
    # Before every row is written (the fan-out's first phase) the area total is the census.
    overall.total = max(overall.total, check.resident_count)
    by_area[check.area.pk].tally.total = overall.total
    by_grid = sorted((AreaTally(grids[g], t) for g, t in per_grid.items() if g in grids), key=lambda a: a.area.path)
    return SafetyCounts(check=check, overall=overall, by_area=list(by_area.values()), by_grid=by_grid)


def _between_kinds(area: Area) -> list[str]:
    depth = AREA_KIND_DEPTH[AreaKind(area.kind)]
    return [kind for kind, d in AREA_KIND_DEPTH.items() if depth < d < AREA_KIND_DEPTH[AreaKind.GRID]]


STATUS_ORDER = Case(
    When(status=SafetyState.NEED_HELP, then=Value(0)), When(status=SafetyState.UNANSWERED, then=Value(1)),
    default=Value(2), output_field=IntegerField(),
)


def statuses_vulnerable_first(check: SafetyCheck) -> QuerySet[SafetyStatus]:
    """Vulnerable residents first; within them, need help, then silent, then safe."""
    return (SafetyStatus.objects.filter(safety_check=check).annotate(status_rank=STATUS_ORDER)
            .order_by("-is_vulnerable", "status_rank", "resident__display_name", "pk"))
