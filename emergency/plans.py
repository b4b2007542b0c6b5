"""Response plans: versions, which plan applies to a switch, and running it.

    save_plan_version(area, mode, name=..., actions=[...], by=user)  # a new version, always
    plan_for(area, mode) -> ResponsePlan | None   # the area's own current plan, else the
                                                  # nearest ancestor's (a withdrawn version
                                                  # hands over to the ancestors)

A switch that enters a mode writes a PlanRun (the version that ran, one step per action) in
its own transaction (start_plan_run), and one for each descendant that has its own plan for
that mode (descendant_plans: a community's patrols run when its subdistrict declares; what
the switched area's plan already does for everyone is recorded as covered, not done twice).
Celery then runs the steps in order, each in chunks with its cursor in the database
(plan_run_chunk, driven by emergency.fanout). A newer switch of the same area and footing (the
real one, or its drill) supersedes the run: steps not yet started are skipped, a running one
stops at its next chunk. Dispatch overrides a plan set are cleared when the area leaves that
mode; a drill's plan never sets one (it records what it would set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from community.models import MODE_SEVERITY, Area, HazardPoint, Mode, ModeSwitch, Resident, User
from core.errors import field_error
from core.text import clean_text
from resources.facilities import set_facility_status
from resources.models import Facility, FacilityStatus
from volunteers.services import (
    TaskSpec,
    clear_area_dispatch_override,
    create_task,
    place_system_task,
    set_area_dispatch_override,
)

from .alerts import issue_alert
from .error_codes import EmergencyErrorCode as Code
from .mobilise import mobilise_chunk
from .models import (
    CapSeverity,
    Drill,
    PlanAction,
    PlanRun,
    PlanRunStatus,
    PlanStep,
    PlanStepStatus,
    ResponsePlan,
)
from .plan_actions import Params, check_actions
from .safety import start_safety_check

TASKS_PER_CHUNK = 100


# --- versions ---------------------------------------------------------------------------------
def save_plan_version(area: Area, mode: str, *, name: str, actions: object, by: User | None, description: str = "",
                      is_enabled: bool = True, change_note: str = "", auto_switch_severity: str = "") -> ResponsePlan:
    """Write the next version of (area, mode)'s plan; earlier versions stay as they were.
    `auto_switch_severity`: an incoming warning at least this severe switches the area into
    this mode by itself (emergency.warnings.proposals); blank: commanders are asked."""
    mode = getattr(mode, "value", mode)
    if mode not in Mode.values:
        raise field_error("mode", "Unknown mode.", Code.INVALID_MODE)
    severity = getattr(auto_switch_severity, "value", auto_switch_severity) or ""
    if severity and (severity not in CapSeverity.values or severity == CapSeverity.UNKNOWN
                     or mode not in (Mode.STANDBY, Mode.EMERGENCY)):
        raise field_error("auto_switch_severity", "Minor, Moderate, Severe or Extreme, on a STANDBY or EMERGENCY plan.",
                          Code.INVALID)
    values = dict(
        name=clean_text(name, "name", 100, required=True), description=clean_text(description, "description", 4000),
        change_note=clean_text(change_note, "change_note", 500), actions=check_actions(actions), is_enabled=bool(is_enabled),
        auto_switch_severity=severity,
    )
    for _ in range(3):
        try:
            with transaction.atomic():
                latest = ResponsePlan.objects.filter(area=area, mode=mode).aggregate(v=Max("version"))["v"] or 0
                return ResponsePlan.objects.create(area=area, mode=mode, version=latest + 1, created_by=by, **values)
        except IntegrityError:  # two editors at once: the other took this number, take the next
            continue
    raise field_error("version", "The plan is being edited by someone else; try again.", Code.INVALID)  # pragma: no cover


def plan_for(area: Area, mode: str) -> ResponsePlan | None:
    """The plan a switch of `area` into `mode` runs: the latest version on the nearest area,
    from `area` upward, whose latest version is enabled."""
    rows = ResponsePlan.objects.filter(area__path__in=area.ancestor_paths(), mode=mode).select_related("area")
    latest: dict[int, ResponsePlan] = {}
    for plan in rows.order_by("-area__depth", "-version"):
        latest.setdefault(plan.area_id, plan)
    for plan in latest.values():  # nearest area first (dicts keep insertion order)
        if plan.is_enabled:
            return plan
    return None


# --- runs -------------------------------------------------------------------------------------
ACTIVE_RUN_STATUSES = (PlanRunStatus.PENDING, PlanRunStatus.RUNNING)


def footing_q(drill: Drill | None) -> Q:
    """Runs of one footing: the area's real one, or one drill (a drill never supersedes or
    clears what the real footing started, nor the other way round)."""
    return Q(drill=drill) if drill is not None else Q(is_drill=False)


def start_plan_run(switch: ModeSwitch, area: Area, *, drill: Drill | None = None, before: str | None = None) -> PlanRun:
    """In the switch transaction (the area row is locked): supersede the area's earlier runs of
    the same footing, clear a dispatch override the mode being left had set, and write the new
    run and steps — and a run for each descendant that has its own plan for the mode
    (descendant_runs). `before` is the area's mode before a real switch."""

    supersede_runs(area, drill, reason=f"superseded by switch {switch.pk}")
    cleared = False
    if drill is None:
        previous = PlanRun.objects.filter(area=area, parent__isnull=True, is_drill=False).order_by("-created_at", "-id").first()
        if previous is not None:
            cleared = _set_an_override(previous) and clear_area_dispatch_override(area)
            for below in previous.descendant_runs.select_related("area"):
                if _set_an_override(below):
                    clear_area_dispatch_override(below.area)
    plan = plan_for(area, switch.to_mode)
    run = _write_run(area, switch.to_mode, plan, drill=drill, is_drill=switch.is_drill, mode_switch=switch,
                     cleared_dispatch_override=cleared)
    covered = {a["type"]: i for i, a in reversed(list(enumerate(plan.actions if plan else []))) if a["type"] in PEOPLE_WIDE}
    for own in descendant_plans(area, switch.to_mode, before=before if drill is None else None):
        _write_run(own.area, switch.to_mode, own, drill=drill, is_drill=switch.is_drill, parent=run, covered=covered)
    return run


# Actions that reach every resident or volunteer of the area: a descendant's own plan skips
# them when the switched area's plan already has one (it covers the descendant's people too —
# asking a resident "are you safe?" twice makes two answers to give and doubles the SMS).
PEOPLE_WIDE = (PlanAction.ALERT, PlanAction.SAFETY_CHECK, PlanAction.MOBILISE)


def _write_run(area: Area, mode: str, plan: ResponsePlan | None, *, drill: Drill | None, is_drill: bool,
               mode_switch: ModeSwitch | None = None, parent: PlanRun | None = None,
               cleared_dispatch_override: bool = False, covered: dict[str, int] | None = None) -> PlanRun:
    """`covered`: {action type: position} of the ancestor's run whose steps reach this area's
    people already; this run records those steps as skipped."""
    run = PlanRun.objects.create(
        mode_switch=mode_switch, parent=parent, area=area, mode=mode, is_drill=is_drill, drill=drill, plan=plan,
        plan_version=plan.version if plan else None, cleared_dispatch_override=cleared_dispatch_override,
    )
    steps = []
    for i, action in enumerate(plan.actions if plan else []):
        step = PlanStep(run=run, position=i, action=action["type"], params=action["params"])
        if covered and action["type"] in covered and parent is not None:
            step.status = PlanStepStatus.SKIPPED
            step.error = f"covered by step {covered[action['type']]} of {parent.area.name}'s plan (run {parent.pk})"
        steps.append(step)
    PlanStep.objects.bulk_create(steps)
    return run


def supersede_runs(area: Area, drill: Drill | None, *, reason: str) -> list[PlanRun]:
    """Stop the area's unfinished runs of this footing (and their descendants' runs): steps
    not started are skipped. Returns the runs stopped."""
    roots = PlanRun.objects.filter(footing_q(drill), area=area, parent__isnull=True, status__in=ACTIVE_RUN_STATUSES)
    active = list(PlanRun.objects.filter(Q(pk__in=roots) | Q(parent__in=roots), status__in=ACTIVE_RUN_STATUSES))
    PlanStep.objects.filter(run__in=active, status=PlanStepStatus.PENDING).update(status=PlanStepStatus.SKIPPED, error=reason[:500])
    PlanRun.objects.filter(pk__in=[r.pk for r in active]).update(status=PlanRunStatus.SUPERSEDED)
    return active


def descendant_plans(area: Area, mode: str, *, before: str | None) -> list[ResponsePlan]:
    """The plans of `area`'s descendants that have their own (latest version enabled) for
    `mode`, nearest first. For a real switch (`before` = the area's mode before it) only those
    whose footing this switch changes: not already in `mode` before, in it after (a community
    in its own EMERGENCY does not run its STANDBY plan when the subdistrict declares STANDBY)."""
    rows = (ResponsePlan.objects.filter(area__path__startswith=area.path, area__depth__gt=area.depth, mode=mode)
            .select_related("area").order_by("area__path", "-version"))
    latest: dict[int, ResponsePlan] = {}
    for plan in rows:
        latest.setdefault(plan.area_id, plan)
    plans = [p for p in latest.values() if p.is_enabled]
    if before is None or not plans:
        return plans
    modes = dict(Area.objects.filter(path__in={p for plan in plans for p in plan.area.ancestor_paths()})
                 .values_list("path", "mode"))
    after = {**modes, area.path: mode}
    modes[area.path] = before

    def effective(plan: ResponsePlan, known: dict[str, str]) -> str:
        return max((known[p] for p in plan.area.ancestor_paths() if p in known), key=lambda m: MODE_SEVERITY[Mode(m)])

    return [p for p in plans if effective(p, modes) != mode and effective(p, after) == mode]


def _set_an_override(run: PlanRun) -> bool:
    return run.steps.filter(action=PlanAction.SET_DISPATCH, status=PlanStepStatus.DONE, result__set=True).exists()


def plan_run_chunk(run: PlanRun) -> bool:
    """One chunk of the run's current step (see emergency.fanout.drive)."""
    step = run.steps.filter(status__in=[PlanStepStatus.PENDING, PlanStepStatus.RUNNING]).order_by("position").first()
    if step is None:
        now = timezone.now()
        PlanRun.objects.filter(pk=run.pk).exclude(status=PlanRunStatus.SUPERSEDED).update(status=PlanRunStatus.DONE, finished_at=now)
        PlanRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(finished_at=now)
        return True
    if run.status == PlanRunStatus.SUPERSEDED:  # a newer switch, or the footing ended: stop mid-step too
        PlanStep.objects.filter(pk=step.pk).update(status=PlanStepStatus.SKIPPED, finished_at=timezone.now(),
                                                   error=step.error or "superseded while running")
        return False
    PlanRun.objects.filter(pk=run.pk, status=PlanRunStatus.PENDING).update(status=PlanRunStatus.RUNNING)
    if step.status == PlanStepStatus.PENDING:
        if not PlanStep.objects.filter(pk=step.pk, status=PlanStepStatus.PENDING).update(
                status=PlanStepStatus.RUNNING, started_at=timezone.now()):
            return False  # skipped by a newer switch meanwhile
        step.refresh_from_db()
    step.run = run
    run.fanout_phase = str(step.position)
    _run_step(step)
    return False


def _run_step(step: PlanStep) -> None:
    try:
        with transaction.atomic():
            finished = EXECUTORS[PlanAction(step.action)](step)
    except ValidationError as exc:  # the data the plan names is not usable (e.g. a skill was deleted)
        finished, step.status, step.error = True, PlanStepStatus.FAILED, "; ".join(exc.messages)[:500]
    if finished and step.status != PlanStepStatus.FAILED:
        step.status = PlanStepStatus.DONE
    if finished:
        step.finished_at = timezone.now()
    PlanStep.objects.filter(pk=step.pk).update(
        status=step.status, phase=step.phase, cursor=step.cursor, counts=step.counts, result=step.result,
        error=step.error, finished_at=step.finished_at,
    )


def _actor(step: PlanStep) -> User | None:
    return step.run.switch.switched_by


def run_alert(step: PlanStep) -> bool:
    params = dict(step.params)
    codes = params.pop("shelter_codes", None) or []
    params.pop("ladder", None)  # the alert's escalation ladder, read from its step (emergency.alerts.alert_ladder)
    shelters = list(Facility.objects.filter(code__in=codes).order_by("name"))
    alert = issue_alert(step.run.area, params, by=_actor(step), is_drill=step.run.is_drill, plan_step=step,
                        drill=step.run.drill, shelters=shelters)
    step.result = {"alert_id": alert.pk}
    return True


def run_safety_check(step: PlanStep) -> bool:
    check = start_safety_check(
        step.run.area, by=_actor(step), title=step.params.get("title", ""), is_drill=step.run.is_drill,
        welfare_after_minutes=step.params.get("welfare_after_minutes"), plan_step=step, drill=step.run.drill,
    )
    step.result = {"safety_check_id": check.pk}
    return True


def run_set_dispatch(step: PlanStep) -> bool:
    """Set the override only while this run's switch is its area's latest and the mode still
    holds (under the switched area's row lock, which a switch also takes). A drill never sets
    one: overrides apply to every task in the area, real ones included."""

    run = step.run
    if run.is_drill:
        step.result = {"set": False, "reason": "drill: dispatch overrides apply to real tasks, so a drill records them only",
                       "would_set": dict(step.params)}
        return True
    root = run.parent if run.parent is not None else run
    switched = Area.objects.select_for_update().get(pk=root.area_id)
    latest = (PlanRun.objects.filter(area=switched, parent__isnull=True, is_drill=False).order_by("-created_at", "-id")
              .values_list("pk", flat=True).first())
    if latest != root.pk or switched.mode != run.mode:
        step.result = {"set": False, "reason": "the area left the mode"}
        return True
    name = run.plan.name if run.plan else ""
    set_area_dispatch_override(run.area, by=_actor(step), reason=f"预案 {name} v{run.plan_version}", **step.params)
    step.result = {"set": True}
    return True


def run_create_tasks(step: PlanStep) -> bool:
    params, run = step.params, step.run
    targets = _task_targets(step)
    if not targets:
        return True
    deadline = timezone.now() + dt.timedelta(minutes=params["deadline_minutes"]) if params.get("deadline_minutes") else None
    for kind, target in targets:
        area, place = place_system_task(target.grid, target.point)  # a task lies in its area
        create_task(TaskSpec(title=params["title"], description=_task_description(params, target), location=place, address=target.address, required_skills=params.get("required_skills", []), headcount=params.get("headcount", 1), priority=params.get("priority", "URGENT"), deadline=deadline), area=area, source="PLAN", source_object=run, created_by=_actor(step), is_drill=run.is_drill, idempotency_key=f"plan:{run.pk}:{step.position}:{kind}:{target.pk}")
    step.cursor = targets[-1][1].pk
    step.counts["tasks"] = step.counts.get("tasks", 0) + len(targets)
    return False


def _task_targets(step: PlanStep) -> list[tuple[str, HazardPoint | Resident]]:
    params, area = step.params, step.run.area
    qs: QuerySet[HazardPoint] | QuerySet[Resident]
    if params["target"] == "HAZARD_POINTS":
        qs = HazardPoint.objects.in_area(area).filter(is_active=True, severity__gte=params.get("min_severity", 1))
        if params.get("hazard_kinds"):
            qs = qs.filter(kind__in=params["hazard_kinds"])
        kind = "hazard"
    else:
        flags = Q()
        for flag in params.get("vulnerability_flags", ["elderly_living_alone"]):
            flags |= Q(**{flag: True})
        qs, kind = Resident.objects.in_area(area).filter(flags), "resident"
    rows = qs.filter(pk__gt=step.cursor).select_related("grid").order_by("pk")[:TASKS_PER_CHUNK]
    return [(kind, row) for row in rows]


def _task_description(params: Params, target: HazardPoint | Resident) -> str:
    where = f"风险点：{target.name}" if isinstance(target, HazardPoint) else "对象：本网格重点关注居民（详见任务地址）"
    return "\n".join(t for t in (params.get("description", ""), where) if t)


def run_facilities(step: PlanStep) -> bool:
    """Open or close the area's facilities the step names. A drill only says what it would
    do: opening a real shelter is not practice. Closing skips a shelter with people inside."""
    params, run = step.params, step.run
    facilities = Facility.objects.filter(area__path__startswith=run.area.path)
    named = Q(kind__in=params.get("kinds", [])) | Q(code__in=params.get("codes", []))
    chosen = list(facilities.filter(named).order_by("code"))
    if run.is_drill:
        step.result = {"drill": True, "would": [f.code for f in chosen], "status": params["status"]}
        return True
    done, skipped = [], []
    reason = f"预案 {run.plan.name if run.plan else ''} v{run.plan_version}"
    for facility in chosen:
        if params["status"] == FacilityStatus.CLOSED and facility.occupancy:
            skipped.append(facility.code)
            continue
        set_facility_status(facility, params["status"], by=_actor(step), reason=reason)
        done.append(facility.code)
    step.result = {"status": params["status"], "facilities": done, "skipped": skipped}
    return True


EXECUTORS: dict[PlanAction, Callable[[PlanStep], bool]] = {
    PlanAction.ALERT: run_alert, PlanAction.SAFETY_CHECK: run_safety_check, PlanAction.MOBILISE: mobilise_chunk,
    PlanAction.SET_DISPATCH: run_set_dispatch, PlanAction.CREATE_TASKS: run_create_tasks,
    PlanAction.FACILITIES: run_facilities,
}
