"""Stable error codes of the resources app (picked up by schema/core/errors.py)."""

from enum import StrEnum


class ResourcesErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_FOUND = "not_found"
    INVALID_AREA = "invalid_area"
    # facilities and shelters
    FACILITY_CLOSED = "facility_closed"
    SHELTER_FULL = "shelter_full"
    SHELTER_NOT_EMPTY = "shelter_not_empty"
    NOT_A_SHELTER = "not_a_shelter"
    ALREADY_IN_SHELTER = "already_in_shelter"
    NOT_IN_SHELTER = "not_in_shelter"
    INVALID_CAPACITY = "invalid_capacity"
    # supplies
    INVALID_QUANTITY = "invalid_quantity"
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_WAREHOUSE = "unknown_warehouse"
    SAME_WAREHOUSE = "same_warehouse"
    TASK_CLOSED = "task_closed"
    DRILL_TASK = "drill_task"
    ALREADY_SETTLED = "already_settled"
    # Excel import
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    FILE_TOO_LARGE = "file_too_large"
    MISSING_COLUMN = "missing_column"
    IMPORT_HAS_ERRORS = "import_has_errors"
