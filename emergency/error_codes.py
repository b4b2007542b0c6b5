"""Stable error codes of the emergency app (picked up by schema/core/errors.py)."""

from enum import StrEnum


class EmergencyErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_FOUND = "not_found"
    INVALID_MODE = "invalid_mode"
    # plans, alerts, safety checks, after-action reviews
    INVALID_PLAN_ACTION = "invalid_plan_action"
    ALERT_NOT_ACTIVE = "alert_not_active"
    SAFETY_CHECK_CLOSED = "safety_check_closed"
    NOT_IN_SAFETY_CHECK = "not_in_safety_check"
    INVALID_PERIOD = "invalid_period"
    # drills and wind-downs
    DRILL_NOT_ACTIVE = "drill_not_active"
    MODE_TRANSITION_NOT_ALLOWED = "mode_transition_not_allowed"
