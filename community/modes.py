"""Switching an area's mode (平急转换): the legal moves, and the switch itself.

The switch transaction is short whatever the size of the area: it locks the area row,
checks the move, records the ModeSwitch and, when a mode is entered, the PlanRun of the plan
that applies (with one step per action). Everything heavy — alerting tens of thousands of
residents, their safety-check rows, calling volunteers in, creating tasks — runs afterwards
in Celery (community.plans), resumable step by step.

Concurrent switches of one area serialise on the area's row lock: each is recorded with the
mode it really switched from, and the last to commit is the area's state.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backend.errors import ValidationError
from notifications import events
from notifications.realtime import publish_on_commit

from .error_codes import CommunityErrorCode
from .models import Area, Mode, ModeSwitch, PlanRun, SafetyCheck, SafetyCheckStatus, User

# The one table of legal moves between different modes. Re-declaring the current mode is
# always allowed and recorded (it does not re-run the plan). EMERGENCY -> NORMAL is not in
# the table: an emergency ends through RECOVERY, or explicitly with skip_recovery and a
# reason (e.g. a false alarm).
MODE_TRANSITIONS: dict[str, frozenset[str]] = {
    Mode.NORMAL: frozenset({Mode.STANDBY, Mode.EMERGENCY}),
    Mode.STANDBY: frozenset({Mode.NORMAL, Mode.EMERGENCY, Mode.RECOVERY}),
    Mode.EMERGENCY: frozenset({Mode.RECOVERY, Mode.STANDBY}),
    Mode.RECOVERY: frozenset({Mode.NORMAL, Mode.STANDBY, Mode.EMERGENCY}),
}


def check_transition(from_mode: str, to_mode: str, *, skip_recovery: bool = False, reason: str = "") -> None:
    """Refuse an illegal move with a typed error; the one place the rules live."""
    if to_mode not in Mode.values:
        raise ValidationError({"mode": "Unknown mode."}, code=CommunityErrorCode.INVALID_MODE)
    if from_mode == to_mode or to_mode in MODE_TRANSITIONS[Mode(from_mode)]:
        return
    if from_mode == Mode.EMERGENCY and to_mode == Mode.NORMAL:
        if skip_recovery and reason.strip():
            return
        if skip_recovery:
            raise ValidationError({"reason": "Say why the area skips recovery."}, code=CommunityErrorCode.REQUIRED)
        raise ValidationError(
            {"mode": "An emergency ends through RECOVERY; to go straight to NORMAL set skipRecovery and give a reason."},
            code=CommunityErrorCode.MODE_TRANSITION_NOT_ALLOWED,
        )
    raise ValidationError(
        {"mode": f"An area in {from_mode} cannot switch to {to_mode}."},
        code=CommunityErrorCode.MODE_TRANSITION_NOT_ALLOWED,
    )


def check_switch(area: Area, to_mode: str, reason: str) -> None:
    if to_mode not in Mode.values:
        raise ValidationError({"mode": "Unknown mode."}, code=CommunityErrorCode.INVALID_MODE)
    if len(reason) > 2000:
        raise ValidationError({"reason": "At most 2000 characters."}, code=CommunityErrorCode.TOO_LONG)


def switch_mode(
    area: Area, to_mode: str, *, by: User | None, reason: str = "", is_drill: bool = False,
    skip_recovery: bool = False,
) -> ModeSwitch:
    """Set `area`'s own mode (it applies to the subtree); returns at once, the plan runs after
    commit. Raises ValidationError (typed) for an illegal move, changing nothing."""
    from .plans import enqueue_plan_run, start_plan_run

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
            transaction.on_commit(lambda: enqueue_plan_run(run.pk))
        _close_checks_if_normal(locked, by, now)
        _publish_switch(locked, switch, now)
    return switch


def _close_checks_if_normal(area: Area, by: User | None, now) -> None:
    """Back to normal footing: safety checks in the subtree stop their welfare sweeps (late
    answers are still recorded and still raise need-help tasks)."""
    if area.effective_mode() != Mode.NORMAL:
        return
    SafetyCheck.objects.filter(area__path__startswith=area.path, status=SafetyCheckStatus.ACTIVE).update(
        status=SafetyCheckStatus.CLOSED, closed_at=now, closed_by=by,
    )


def _publish_switch(area: Area, switch: ModeSwitch, now) -> None:
    publish_on_commit(
        events.area_group(area.pk),
        events.make_event(
            events.AREA_MODE_CHANGED, areaId=area.pk, mode=switch.to_mode, fromMode=switch.from_mode,
            isDrill=switch.is_drill, reason=switch.reason, switchId=switch.pk, changedAt=now.isoformat(),
        ),
    )


def latest_run(area: Area) -> PlanRun | None:
    return PlanRun.objects.filter(area=area).order_by("-created_at", "-id").first()
