"""Stable error codes of the volunteers app (picked up by schema/core/errors.py)."""

from enum import StrEnum


class VolunteersErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    # volunteers
    ALREADY_VOLUNTEER = "already_volunteer"
    NOT_A_VOLUNTEER = "not_a_volunteer"
    NOT_APPROVED = "not_approved"
    INVALID_STATUS_TRANSITION = "invalid_status_transition"
    INVALID_AREA = "invalid_area"
    UNKNOWN_SKILL = "unknown_skill"
    CERTIFICATE_REQUIRED = "certificate_required"
    CERTIFICATE_EXPIRED = "certificate_expired"
    INVALID_AVAILABILITY = "invalid_availability"
    INVALID_LANGUAGE = "invalid_language"
    INVALID_TIME = "invalid_time"
    # Party members
    ALREADY_REGISTERED = "already_registered"
    # activities
    INVALID_TIME_RANGE = "invalid_time_range"
    INVALID_CAPACITY = "invalid_capacity"
    INVALID_RADIUS = "invalid_radius"
    INVALID_CHECKIN_CODE = "invalid_checkin_code"
    ACTIVITY_NOT_OPEN = "activity_not_open"
    NOT_ELIGIBLE = "not_eligible"
    CAPACITY_FULL = "capacity_full"
    ALREADY_SIGNED_UP = "already_signed_up"
    NOT_SIGNED_UP = "not_signed_up"
    CHECKIN_NOT_OPEN = "checkin_not_open"
    CHECKIN_PROOF_REQUIRED = "checkin_proof_required"
    OUTSIDE_RADIUS = "outside_radius"
    WRONG_CHECKIN_CODE = "wrong_checkin_code"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_CHECKED_IN = "not_checked_in"
    ALREADY_CHECKED_OUT = "already_checked_out"
    # service hours
    INVALID_HOURS = "invalid_hours"
    CORRECTION_BELOW_ZERO = "correction_below_zero"
    INVALID_DATE_RANGE = "invalid_date_range"
    TOO_MANY_ROWS = "too_many_rows"
