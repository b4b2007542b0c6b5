"""Switching an area's mode (平急转换), and what happens around it.

The switch transaction is short whatever the size of the area: it locks the area row,
checks the move (community.modes holds the legal moves), records the ModeSwitch and, when a
mode is entered, the PlanRun of the plan that applies (with one step per action) and one for
each descendant with its own plan for that mode. Everything heavy — alerting tens of
thousands of residents, their safety-check rows, calling volunteers in, creating tasks, and
winding down what the footing being left started — runs afterwards in Celery, resumable step
by step (emergency.plans, emergency.winddown).

Drills are an overlay (emergency.models.drills): `is_drill` starts, changes or ends the
area's drill and never touches the real mode. A drill ends when it is switched to NORMAL,
from whatever mode it is in (stopping a practice needs no recovery phase); otherwise its
moves follow the same table as real ones, starting from the area's real mode.

Ending a footing winds it down: a drill's end, and a real switch into RECOVERY or NORMAL,
write a WindDown of the runs that footing started (emergency.winddown).

Concurrent switches of one area serialise on the area's row lock: each is recorded with the
mode it really switched from, and the last to commit is the area's state.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from community.models import Area, Mode, ModeSwitch, User
from community.modes import check_switch, check_transition
from core.enqueue import enqueue_on_commit
from core.errors import field_error
from notifications import events
from notifications.realtime import publish_on_commit

from .error_codes import EmergencyErrorCode as Code
from .fanout import ADVANCE_PLAN_RUN
from .models import Drill, PlanRun, SafetyCheck, WindDownCause
from .plans import start_plan_run, supersede_runs
from .safety import close_checks
from .winddown import real_footing_runs, start_wind_down

ENDING = {Mode.RECOVERY: WindDownCause.RECOVERY, Mode.NORMAL: WindDownCause.NORMAL}


def switch_mode(
    area: Area, to_mode: str, *, by: User | None, reason: str = "", is_drill: bool = False,
    skip_recovery: bool = False,
) -> ModeSwitch:
    """Set `area`'s own mode (it applies to the subtree), or with `is_drill` its drill's;
    returns at once, the plan runs after commit. Raises ValidationError (typed) for an
    illegal move, changing nothing."""
    check_switch(area, to_mode, reason)
    if is_drill:
        return _switch_drill(area, to_mode, by=by, reason=reason, skip_recovery=skip_recovery)
    with transaction.atomic():
        locked = Area.objects.select_for_update().get(pk=area.pk)
        check_transition(locked.mode, to_mode, skip_recovery=skip_recovery, reason=reason)
        now = timezone.now()
        before = locked.mode
        switch = ModeSwitch.objects.create(
            area=locked, from_mode=before, to_mode=to_mode, reason=reason, is_drill=False, switched_by=by,
            switched_at=now,
        )
        Area.objects.filter(pk=locked.pk).update(mode=to_mode, mode_changed_at=now)
        locked.mode = area.mode = to_mode
        area.mode_changed_at = now
        if before != to_mode:
            leaving, since = real_footing_runs(locked, now)
            _start(start_plan_run(switch, locked, before=before))
            if to_mode in ENDING:
                start_wind_down(switch, locked, runs=leaving, cause=ENDING[Mode(to_mode)], since=since)
        _close_checks_if_normal(locked, by, now)
        _publish_switch(locked, switch, now)
    return switch


def _switch_drill(area: Area, to_mode: str, *, by: User | None, reason: str, skip_recovery: bool) -> ModeSwitch:
    with transaction.atomic():
        locked = Area.objects.select_for_update().get(pk=area.pk)
        drill = Drill.objects.filter(area=locked, ended_at__isnull=True).first()
        now = timezone.now()
        if drill is None:
            _check_drill_start(locked, to_mode, skip_recovery=skip_recovery, reason=reason)
            from_mode = locked.mode
            drill = Drill.objects.create(area=locked, mode=to_mode, reason=reason, started_at=now, started_by=by,
                                         mode_changed_at=now)
        else:
            from_mode = drill.mode
            if to_mode != Mode.NORMAL:
                check_transition(from_mode, to_mode, skip_recovery=skip_recovery, reason=reason)
            ended = {"ended_at": now, "ended_by": by} if to_mode == Mode.NORMAL else {}
            Drill.objects.filter(pk=drill.pk).update(mode=to_mode, mode_changed_at=now, **ended)
        switch = ModeSwitch.objects.create(
            area=locked, from_mode=from_mode, to_mode=to_mode, reason=reason, is_drill=True, switched_by=by,
            switched_at=now,
        )
        if to_mode == Mode.NORMAL:
            leaving = _drill_runs(drill)
            supersede_runs(locked, drill, reason=f"the drill ended (switch {switch.pk})")
            start_wind_down(switch, locked, runs=leaving, cause=WindDownCause.DRILL_ENDED, since=drill.started_at,
                            drill=drill)
        elif from_mode != to_mode:
            leaving = _drill_runs(drill)
            _start(start_plan_run(switch, locked, drill=drill))
            if to_mode == Mode.RECOVERY:
                start_wind_down(switch, locked, runs=leaving, cause=WindDownCause.RECOVERY, since=drill.started_at,
                                drill=drill)
        _publish_switch(locked, switch, now, drill=drill)
    return switch


def _check_drill_start(area: Area, to_mode: str, *, skip_recovery: bool, reason: str) -> None:
    if to_mode == Mode.NORMAL:
        raise field_error("mode", "No drill is running on this area; start one by switching to STANDBY or EMERGENCY "
                                  "with isDrill.", Code.DRILL_NOT_ACTIVE)
    if to_mode == area.mode:
        raise field_error("mode", f"The area is in {to_mode} for real; a drill practises another mode.",
                          Code.MODE_TRANSITION_NOT_ALLOWED)
    check_transition(area.mode, to_mode, skip_recovery=skip_recovery, reason=reason)


def _drill_runs(drill: Drill) -> list[PlanRun]:
    return list(PlanRun.objects.filter(drill=drill))


def _start(run: PlanRun) -> None:
    for pk in [run.pk, *run.descendant_runs.values_list("pk", flat=True)]:
        enqueue_on_commit(ADVANCE_PLAN_RUN, pk)


def _close_checks_if_normal(area: Area, by: User | None, now: dt.datetime) -> None:
    """Back to normal footing: real safety checks in the subtree stop their fan-outs and
    welfare sweeps and drop the questions not yet sent (late answers are still recorded and
    still raise need-help tasks). A drill's checks are its own: its end closes them."""
    if area.effective_mode() != Mode.NORMAL:
        return
    close_checks(SafetyCheck.objects.filter(area__path__startswith=area.path, is_drill=False), by=by)


def _publish_switch(area: Area, switch: ModeSwitch, now: dt.datetime, *, drill: Drill | None = None) -> None:
    extra = {"drillId": drill.pk} if drill is not None else {}
    publish_on_commit(
        events.area_group(area.pk),
        events.make_event(
            events.AREA_MODE_CHANGED, areaId=area.pk, mode=switch.to_mode, fromMode=switch.from_mode,
            isDrill=switch.is_drill, reason=switch.reason, switchId=switch.pk, changedAt=now.isoformat(), **extra,
        ),
    )
