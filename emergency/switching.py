"""Switching an area's mode (平急转换), and what happens around it.

The switch transaction is short whatever the size of the area: it locks the area row,
checks the move (community.modes holds the legal moves), records the ModeSwitch and, when a
mode is entered, the PlanRun of the plan that applies (with one step per action).
Everything heavy — alerting tens of thousands of residents, their safety-check rows, calling
volunteers in, creating tasks — runs afterwards in Celery (emergency.plans), resumable step
by step.

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
from notifications import events
from notifications.realtime import publish_on_commit

from .fanout import ADVANCE_PLAN_RUN
from .models import SafetyCheck
from .plans import start_plan_run
from .safety import close_checks


def switch_mode(
    area: Area, to_mode: str, *, by: User | None, reason: str = "", is_drill: bool = False,
    skip_recovery: bool = False,
) -> ModeSwitch:
    """Set `area`'s own mode (it applies to the subtree); returns at once, the plan runs after
    commit. Raises ValidationError (typed) for an illegal move, changing nothing."""
    check_switch(area, to_mode, reason)
    with transaction.atomic():
        locked = Area.objects.select_for_update().get(pk=area.pk)
        check_transition(locked.mode, to_mode, skip_recovery=skip_recovery, reason=reason)
        now = timezone.now()
        switch = ModeSwitch.objects.create(
            area=locked, from_mode=locked.mode, to_mode=to_mode, reason=reason, is_drill=is_drill,
            switched_by=by, switched_at=now,
        )
        Area.objects.filter(pk=locked.pk).update(mode=to_mode, mode_changed_at=now)
        locked.mode = area.mode = to_mode
        area.mode_changed_at = now
        if switch.from_mode != to_mode:
            run = start_plan_run(switch, locked)
            enqueue_on_commit(ADVANCE_PLAN_RUN, run.pk)
        _close_checks_if_normal(locked, by, now)
        _publish_switch(locked, switch, now)
    return switch


def _close_checks_if_normal(area: Area, by: User | None, now: dt.datetime) -> None:
    """Back to normal footing: safety checks in the subtree stop their fan-outs and welfare
    sweeps and drop the questions not yet sent (late answers are still recorded and still
    raise need-help tasks)."""
    if area.effective_mode() != Mode.NORMAL:
        return
    close_checks(SafetyCheck.objects.filter(area__path__startswith=area.path), by=by, now=now)


def _publish_switch(area: Area, switch: ModeSwitch, now: dt.datetime) -> None:
    publish_on_commit(
        events.area_group(area.pk),
        events.make_event(
            events.AREA_MODE_CHANGED, areaId=area.pk, mode=switch.to_mode, fromMode=switch.from_mode,
            isDrill=switch.is_drill, reason=switch.reason, switchId=switch.pk, changedAt=now.isoformat(),
        ),
    )
