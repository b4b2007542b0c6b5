"""The ValidationError every Linli service raises, and the helpers that build it.

Django's ValidationError silently drops `code` when the message is a dict
(`ValidationError({"phone": "Not valid."}, code="invalid_phone")` yields an error without a
code), and the code is what a mobile app switches on. This subclass keeps it: each field's
message gets the code. It is still a django.core.exceptions.ValidationError, so forms, the
admin and `except ValidationError` treat it as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError


class CoreErrorCode(StrEnum):
    """Codes every app shares (each app's own enum repeats the ones it uses)."""

    INVALID = "invalid"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_FOUND = "not_found"


class ValidationError(DjangoValidationError):
    def __init__(self, message: Any, code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        # Django's signature wants a dict; accept any mapping from callers and copy it.
        params_dict = dict(params) if params is not None else None
        if isinstance(message, dict) and code is not None:
            message = {
                field: msg if isinstance(msg, DjangoValidationError) else DjangoValidationError(msg, code=code, params=params_dict)
                for field, msg in message.items()
            }
        super().__init__(message, code, params_dict)
        if code is not None and not hasattr(self, "code"):
            self.code = code


def field_error(field: str | None, message: str, code: str,
                cls: type[DjangoValidationError] = DjangoValidationError) -> DjangoValidationError:
    """A ValidationError for one field that keeps its code (on the inner error)."""
    return cls({field or NON_FIELD_ERRORS: DjangoValidationError(message, code=code)})


def rate_limited(field: str | None, seconds: int, code: str,
                 cls: type[DjangoValidationError] = DjangoValidationError) -> DjangoValidationError:
    """RATE_LIMITED for one field (or the whole input), carrying the seconds to wait: the API
    gives them as the error's `retryAfter`, not only in the message."""
    seconds = max(1, int(seconds))
    return cls({field or NON_FIELD_ERRORS: DjangoValidationError(
        "Too many requests; try again in %(retry_after)s seconds.", code=code, params={"retry_after": seconds})})


def merge_errors(errors: Iterable[DjangoValidationError]) -> None:
    """Raise all collected field errors at once (a form shows every problem, not the first)."""
    merged: dict[str, list[DjangoValidationError]] = {}
    for error in errors:
        for field, items in error.error_dict.items():
            merged.setdefault(field, []).extend(items)
    if merged:
        raise DjangoValidationError(merged)


__all__ = ["CoreErrorCode", "ValidationError", "field_error", "merge_errors", "rate_limited"]
