from enum import StrEnum


class CommunityErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    INVALID_MODE = "invalid_mode"
    UNCHANGED = "unchanged"
