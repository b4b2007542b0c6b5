"""Stable error codes of the notifications app (picked up by schema/core/errors.py)."""

from enum import StrEnum


class NotificationsErrorCode(StrEnum):
    INVALID_PHONE = "invalid_phone"
    INVALID_CODE = "invalid_code"
    CODE_EXPIRED = "code_expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    USE_PASSWORD_LOGIN = "use_password_login"
    OPTED_OUT = "opted_out"  # the number texted STOP/退订: no code is sent until it texts START/订阅
    COUNTRY_NOT_SUPPORTED = "country_not_supported"  # login codes go only to LOGIN_CODE_COUNTRY_CODES


class SmsErrorCode(StrEnum):
    """Why an SMS row was refused or failed (SmsMessage.error_code), besides provider codes."""

    OPTED_OUT = "opted_out"
    INVALID_PHONE = "invalid_phone"
    NO_PHONE = "no_phone"
    RETRIES_EXHAUSTED = "retries_exhausted"
    UNREACHABLE = "unreachable"  # carriers keep reporting the number unreachable (notifications/unreachable.py)
