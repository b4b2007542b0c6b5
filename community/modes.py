"""An area's mode (平/急): the legal moves between modes, in one table.

The switch itself — recording it, running the plan that applies, closing what the mode
being left had started — is emergency.switching.switch_mode.
"""

from __future__ import annotations

from core.errors import ValidationError

from .error_codes import CommunityErrorCode
from .models import Area, Mode

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
