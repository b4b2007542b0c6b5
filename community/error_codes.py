"""Stable error codes of the community app (picked up by schema/core/errors.py)."""

from enum import StrEnum


class CommunityErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    INVALID_MODE = "invalid_mode"
    UNCHANGED = "unchanged"
    # residents and households
    INVALID_PHONE = "invalid_phone"
    PHONE_TAKEN = "phone_taken"
    # personal information (issue 21)
    LEGAL_BASIS_REQUIRED = "legal_basis_required"
    CONSENT_TEXT_OUTDATED = "consent_text_outdated"
    ALREADY_REQUESTED = "already_requested"
    ALREADY_ANSWERED = "already_answered"
    # codes (a new SMS number; a staff second factor)
    CODE_EXPIRED = "code_expired"
    INVALID_CODE = "invalid_code"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    RATE_LIMITED = "rate_limited"
    OTP_REQUIRED = "otp_required"
    OTP_INVALID = "otp_invalid"
    OTP_ENROLMENT_REQUIRED = "otp_enrolment_required"
    ALREADY_ENROLLED = "already_enrolled"
    ALREADY_REGISTERED = "already_registered"
    NO_GRID_FOR_LOCATION = "no_grid_for_location"
    NOT_A_GRID = "not_a_grid"
    OUT_OF_SCOPE = "out_of_scope"
    TOO_LONG = "too_long"
    # uploads and imports
    FILE_TOO_LARGE = "file_too_large"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_GRID = "unknown_grid"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    DUPLICATE_IN_DATABASE = "duplicate_in_database"
    BAD_FLAG_VALUE = "bad_flag_value"
    IMPORT_HAS_ERRORS = "import_has_errors"
    TOO_MANY_ROWS = "too_many_rows"
    # hazards and reports
    INVALID_TRANSITION = "invalid_transition"
    ALREADY_CONVERTED = "already_converted"
    # areas' shapes
    INVALID_BOUNDARY = "invalid_boundary"
    BOUNDARY_OUTSIDE_PARENT = "boundary_outside_parent"
    BOUNDARY_EXCLUDES_CHILD = "boundary_excludes_child"
    BOUNDARY_OVERLAP = "boundary_overlap"
    LOCATION_OUTSIDE_AREA = "location_outside_area"
    # modes
    MODE_TRANSITION_NOT_ALLOWED = "mode_transition_not_allowed"
