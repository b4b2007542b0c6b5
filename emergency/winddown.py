"""Winding down (收尾): whatever a footing started is closed when it ends (principle 10).

    start_wind_down(switch, area, runs=[...], cause=..., since=...)   # in the switch transaction
    wind_down_chunk(wind_down) -> bool                                 # driven like a fan-out
    tasks_of(runs, checks) -> QuerySet[Task]                           # what the runs created

In scope: the runs of the footing being left (the area's own since it was last NORMAL, and
the descendants' runs they started; for a drill, the drill's), the alerts and safety checks
those runs issued, and those issued by hand on the same areas in that time (for a drill:
those tied to it). In order, in chunks:

1. queued messages about them are superseded (never sent): alert texts, safety questions,
   call-ins — a resident who already answered, or whose check is over, is not asked again;
2. alerts still active are cancelled with an all-clear (real alerts that reached someone) or
   expired (a drill's, or one that reached nobody: an all-clear for a drill would be more
   drill messages after it ended);
3. safety checks still active are closed, each with its final counts;
4. tasks: one nobody holds is cancelled with the reason (its open offers withdrawn, their
   texts superseded); one somebody holds goes on (listed, STAFFED or IN_PROGRESS) but asks
   nobody new. People first, for real footings: a help request whose resident still needs
   help is never cancelled by a wind-down (listed HELP_REQUEST, it keeps dispatching), and
   entering RECOVERY keeps the welfare visits of vulnerable residents nobody has accounted
   for yet (WELFARE_VISIT: finding them is the first job of recovery); NORMAL cancels
   those. Staff close what is left with closeTasks.

Every step is idempotent (only what is still open is closed), so a re-driven chunk or a
second wind-down of the same runs changes nothing twice; `fanout_counts` holds what was
closed, `kept` what still runs and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from community.models import Area, Mode, ModeSwitch, User
from core.enqueue import enqueue_on_commit
from notifications.outbox import supersede_messages
from volunteers.models import (
    ACTIVE_TASK_STATUSES,
    Offer,
    OfferStatus,
    Task,
    TaskPriority,
    TaskSource,
    TaskStatus,
)
from volunteers.services import cancel_task, is_held, stop_recruiting

from .alerts import cancel_alert
from .fanout import WIND_DOWN, bump
from .models import (
    Alert,
    CapMsgType,
    Drill,
    Mobilisation,
    PlanRun,
    SafetyCheck,
    SafetyCheckStatus,
    SafetyState,
    SafetyStatus,
    WindDown,
    WindDownCause,
)
from .safety import close_with_counts

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
TASKS_PER_CHUNK = 25

# Why a task still runs after the wind-down (WindDown.kept[i]["why"]).
STAFFED, IN_PROGRESS, HELP_REQUEST, WELFARE_VISIT = "STAFFED", "IN_PROGRESS", "HELP_REQUEST", "WELFARE_VISIT"

REASONS = {
    WindDownCause.DRILL_ENDED: "演练结束，未有人承担的演练任务取消。",
    WindDownCause.RECOVERY: "区域转入恢复，未有人承担的任务取消。",
    WindDownCause.NORMAL: "区域恢复平时，未有人承担的任务取消。",
}


# --- starting ---------------------------------------------------------------------------------
def real_footing_runs(area: Area, now: dt.datetime) -> tuple[list[PlanRun], dt.datetime]:
    """The real runs of `area` since it was last NORMAL (before `now`), with the descendants'
    runs they started; and that moment."""
    real = ModeSwitch.objects.filter(area=area, is_drill=False, switched_at__lt=now)
    last_normal = (real.filter(to_mode=Mode.NORMAL).order_by("-switched_at", "-id")
                   .values_list("switched_at", flat=True).first()) or EPOCH
    left_normal = (real.filter(switched_at__gte=last_normal).exclude(to_mode=Mode.NORMAL).order_by("switched_at", "id")
                   .values_list("switched_at", flat=True).first())
    since = left_normal or now
    roots = PlanRun.objects.filter(area=area, parent__isnull=True, is_drill=False, created_at__gte=since)
    return list(PlanRun.objects.filter(Q(pk__in=roots) | Q(parent__in=roots))), since


def start_wind_down(switch: ModeSwitch, area: Area, *, runs: list[PlanRun], cause: str, since: dt.datetime,
                    drill: Drill | None = None) -> WindDown:
    """Write the wind-down in the switch transaction; it runs after commit."""
    wind_down = WindDown.objects.create(area=area, mode_switch=switch, drill=drill, is_drill=switch.is_drill, cause=cause,
                                        since=since, until=switch.switched_at)
    wind_down.runs.set(runs)
    enqueue_on_commit(WIND_DOWN, wind_down.pk)
    return wind_down


# --- scope ------------------------------------------------------------------------------------
def _by_hand(wind_down: WindDown, moment: str) -> Q:
    """Issued by hand (not by a plan) in the footing: tied to the drill, or real on the areas
    the runs covered, in the footing's time."""
    if wind_down.drill_id is not None:
        return Q(drill_id=wind_down.drill_id, **{f"{moment}__lte": wind_down.until})
    areas = {wind_down.area_id, *wind_down.runs.values_list("area_id", flat=True)}
    return Q(area_id__in=areas, is_drill=False, plan_step__isnull=True,
             **{f"{moment}__gte": wind_down.since, f"{moment}__lte": wind_down.until})


def alerts_in_scope(wind_down: WindDown) -> QuerySet[Alert]:
    return Alert.objects.filter(Q(plan_step__run__in=wind_down.runs.all()) | _by_hand(wind_down, "sent_at"))


def checks_in_scope(wind_down: WindDown) -> QuerySet[SafetyCheck]:
    return SafetyCheck.objects.filter(Q(plan_step__run__in=wind_down.runs.all()) | _by_hand(wind_down, "started_at"))


def tasks_of(runs: QuerySet[PlanRun], checks: QuerySet[SafetyCheck]) -> QuerySet[Task]:
    """Tasks the runs created (CREATE_TASKS) and their safety checks raised (help requests,
    welfare visits)."""
    run_ids = runs.annotate(key=Cast("pk", CharField())).values("key")
    statuses = SafetyStatus.objects.filter(safety_check__in=checks)
    return Task.objects.filter(
        Q(source=TaskSource.PLAN, source_type=ContentType.objects.get_for_model(PlanRun), source_id__in=run_ids)
        | Q(pk__in=statuses.filter(need_help_task_id__isnull=False).values("need_help_task_id"))
        | Q(pk__in=statuses.filter(welfare_task_id__isnull=False).values("welfare_task_id"))
    )


def tasks_in_scope(wind_down: WindDown) -> QuerySet[Task]:
    return tasks_of(wind_down.runs.all(), checks_in_scope(wind_down))


# --- the job ----------------------------------------------------------------------------------
PHASES = ("alert_messages", "question_messages", "call_in_messages", "alerts", "checks", "tasks")


def wind_down_chunk(wind_down: WindDown) -> bool:
    """One chunk (see emergency.fanout.drive); True when everything in scope is settled."""
    phase = wind_down.fanout_phase or PHASES[0]
    wind_down.fanout_phase = phase
    if not STEPS[phase](wind_down):
        return False
    if phase == PHASES[-1]:
        return True
    wind_down.fanout_phase, wind_down.fanout_cursor = PHASES[PHASES.index(phase) + 1], 0
    return False


def _reason(wind_down: WindDown) -> str:
    return REASONS[WindDownCause(wind_down.cause)]


def _actor(wind_down: WindDown) -> User | None:
    return wind_down.mode_switch.switched_by


def _supersede_alert_messages(wind_down: WindDown) -> bool:
    dropped = supersede_messages(list(alerts_in_scope(wind_down).only("pk")), reason=_reason(wind_down))
    bump(wind_down.fanout_counts, messages_superseded=dropped)
    return True


def _supersede_questions(wind_down: WindDown) -> bool:
    rows = list(SafetyStatus.objects.filter(safety_check__in=checks_in_scope(wind_down), pk__gt=wind_down.fanout_cursor)
                .only("pk").order_by("pk")[: settings.EMERGENCY_FANOUT_CHUNK])
    if not rows:
        return True
    bump(wind_down.fanout_counts, messages_superseded=supersede_messages(rows, reason=_reason(wind_down)))
    wind_down.fanout_cursor = rows[-1].pk
    return False


def _supersede_call_ins(wind_down: WindDown) -> bool:
    rows = list(Mobilisation.objects.filter(step__run__in=wind_down.runs.all(), pk__gt=wind_down.fanout_cursor)
                .only("pk").order_by("pk")[: settings.EMERGENCY_FANOUT_CHUNK])
    if not rows:
        return True
    bump(wind_down.fanout_counts, messages_superseded=supersede_messages(rows, reason=_reason(wind_down)))
    wind_down.fanout_cursor = rows[-1].pk
    return False


def _settle_alerts(wind_down: WindDown) -> bool:
    now = timezone.now()
    active = alerts_in_scope(wind_down).filter(superseded_at__isnull=True).exclude(msg_type=CapMsgType.CANCEL)
    for alert in active.select_related("area"):
        if not alert.is_active(now):
            continue
        if wind_down.is_drill or not _reached_anyone(alert):
            Alert.objects.filter(pk=alert.pk).update(expires=now)
            bump(wind_down.fanout_counts, alerts_expired=1)
            continue
        try:
            cancel_alert(alert, by=_actor(wind_down))
        except ValidationError:  # staff updated or cancelled it meanwhile: theirs stands
            continue
        bump(wind_down.fanout_counts, alerts_cancelled=1)
    return True


def _reached_anyone(alert: Alert) -> bool:
    counts = alert.fanout_counts or {}
    return bool(counts.get("pushed") or counts.get("sms"))


def _close_checks(wind_down: WindDown) -> bool:
    for check in checks_in_scope(wind_down).select_related("area"):
        if close_with_counts(check, by=_actor(wind_down)):
            bump(wind_down.fanout_counts, safety_checks_closed=1)
    return True


def _settle_tasks(wind_down: WindDown) -> bool:
    tasks = list(tasks_in_scope(wind_down).filter(status__in=ACTIVE_TASK_STATUSES, pk__gt=wind_down.fanout_cursor)
                 .order_by("pk")[:TASKS_PER_CHUNK])
    if not tasks:
        return True
    for task in tasks:
        _settle_task(wind_down, task)
    wind_down.fanout_cursor = tasks[-1].pk
    return False


def _settle_task(wind_down: WindDown, task: Task) -> None:
    held = is_held(task)
    if not wind_down.is_drill:  # people first: see the module's docstring
        needed = HELP_REQUEST if help_still_needed(task) else None
        if needed is None and wind_down.cause == WindDownCause.RECOVERY and visit_still_needed(task):
            needed = WELFARE_VISIT
        if needed is not None:  # it keeps looking for people while places are free
            _keep(wind_down, task, _held_why(task) if held else needed)
            return
    pending = list(Offer.objects.filter(task=task, status=OfferStatus.PENDING).only("pk"))
    bump(wind_down.fanout_counts, messages_superseded=supersede_messages(pending, reason=_reason(wind_down)))
    if held:
        bump(wind_down.fanout_counts, offers_withdrawn=stop_recruiting(task, by=_actor(wind_down), reason=_reason(wind_down)))
        _keep(wind_down, task, _held_why(task))
        return
    cancel_task(task, by=_actor(wind_down), reason=_reason(wind_down))
    bump(wind_down.fanout_counts, tasks_cancelled=1, offers_withdrawn=len(pending))


def _held_why(task: Task) -> str:
    return IN_PROGRESS if task.status == TaskStatus.IN_PROGRESS else STAFFED


def help_still_needed(task: Task) -> bool:
    """A help request whose resident (or a neighbour who joined it) still says NEED_HELP."""
    return task.priority == TaskPriority.LIFE_SAFETY and SafetyStatus.objects.filter(
        need_help_task_id=task.pk, status=SafetyState.NEED_HELP).exists()


def visit_still_needed(task: Task) -> bool:
    """A welfare visit to a vulnerable resident nobody has accounted for yet."""
    return SafetyStatus.objects.filter(welfare_task_id=task.pk, status=SafetyState.UNANSWERED).exists()


def _keep(wind_down: WindDown, task: Task, why: str) -> None:
    kept = [k for k in wind_down.kept if k.get("task_id") != task.pk]
    wind_down.kept = [*kept, {"task_id": task.pk, "why": why}]
    WindDown.objects.filter(pk=wind_down.pk).update(kept=wind_down.kept)


STEPS: dict[str, Callable[[WindDown], bool]] = {
    "alert_messages": _supersede_alert_messages, "question_messages": _supersede_questions,
    "call_in_messages": _supersede_call_ins, "alerts": _settle_alerts, "checks": _close_checks, "tasks": _settle_tasks,
}


# --- the summary ------------------------------------------------------------------------------
def still_running(wind_down: WindDown) -> list[tuple[Task, str]]:
    """The tasks the wind-down left running that are still open now, with why."""
    why = {k["task_id"]: k["why"] for k in wind_down.kept}
    tasks = Task.objects.filter(pk__in=list(why), status__in=ACTIVE_TASK_STATUSES).select_related("area").order_by("pk")
    return [(task, why[task.pk]) for task in tasks]


def active_checks_left(wind_down: WindDown) -> int:
    return checks_in_scope(wind_down).filter(status=SafetyCheckStatus.ACTIVE).count()


# --- closing the rest by hand -------------------------------------------------------------------
def tasks_for_closing(area: Area, *, run: PlanRun | None = None, wind_down: WindDown | None = None,
                      source: str | None = None, priorities: list[str] | None = None,
                      statuses: list[str] | None = None, is_drill: bool | None = None) -> QuerySet[Task]:
    """Open tasks in `area`'s subtree matching every filter given: those a run (with the runs
    of descendants it started) or a wind-down's footing created, a source, priorities,
    statuses, drill or real."""
    tasks = Task.objects.filter(area__path__startswith=area.path, status__in=ACTIVE_TASK_STATUSES)
    if run is not None:
        runs = PlanRun.objects.filter(Q(pk=run.pk) | Q(parent=run))
        tasks = tasks.filter(pk__in=tasks_of(runs, SafetyCheck.objects.filter(plan_step__run__in=runs)).values("pk"))
    if wind_down is not None:
        tasks = tasks.filter(pk__in=tasks_in_scope(wind_down).values("pk"))
    if source is not None:
        tasks = tasks.filter(source=source)
    if priorities:
        tasks = tasks.filter(priority__in=priorities)
    if statuses:
        tasks = tasks.filter(status__in=statuses)
    if is_drill is not None:
        tasks = tasks.filter(is_drill=is_drill)
    return tasks
