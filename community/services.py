"""Community services: check_* validates and raises ValidationError(code=...);
do_* owns the transaction, writes and emits (events after commit)."""

from __future__ import annotations

from .models import Area, ModeSwitch, User
from .modes import check_switch, switch_mode


def check_switch_mode(area: Area, to_mode: str, reason: str) -> None:
    check_switch(area, to_mode, reason)


def do_switch_mode(
    area: Area, to_mode: str, *, by: User | None, reason: str = "", is_drill: bool = False,
    skip_recovery: bool = False,
) -> ModeSwitch:
    """Set `area`'s own mode; see community.modes (legal moves, plan runs, concurrency)."""
    return switch_mode(area, to_mode, by=by, reason=reason, is_drill=is_drill, skip_recovery=skip_recovery)
