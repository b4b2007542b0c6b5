"""Input checks shared by the resident, hazard, report and import services.

Each raises django ValidationError({field: message}, code=CommunityErrorCode...), which the
GraphQL layer turns into typed `errors` and the importer into row problems.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

from .error_codes import CommunityErrorCode
from .models import Language


def field_error(field: str | None, message: str, code: str) -> ValidationError:
    """A ValidationError for one field that keeps its code (Django drops `code=` given with
    a dict of messages, so it goes on the inner error)."""
    return ValidationError({field: ValidationError(message, code=code)})


# Control characters (but tab and newlines) and non-characters: invisible, and forbidden in
# XML, so one pasted from a word processor would break every CAP document and feed.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def strip_unprintable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def clean_text(value, field: str, max_length: int, *, required: bool = False) -> str:
    text = "" if value is None else strip_unprintable(str(value)).strip()
    if required and not text:
        raise field_error(field, "This field is required.", CommunityErrorCode.REQUIRED)
    if len(text) > max_length:
        raise field_error(field, f"At most {max_length} characters.", CommunityErrorCode.TOO_LONG)
    return text


def clean_phone(value, field: str = "phone") -> str | None:
    """E.164 of a mobile or fixed number (default region from settings), or None if empty."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise field_error(field, "Not a valid phone number.", CommunityErrorCode.INVALID_PHONE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_languages(value, field: str = "languages") -> list[str]:
    items = [str(v).strip() for v in (value or []) if str(v).strip()]
    if len(items) > 10 or any(len(v) > 30 for v in items):
        raise field_error(field, "At most 10 languages of at most 30 characters.", CommunityErrorCode.INVALID)
    return list(dict.fromkeys(items))


def clean_language(value, field: str = "preferred_language") -> str:
    value = getattr(value, "value", value) or Language.ZH_HANS
    if value not in Language.values:
        raise field_error(field, "Use zh-hans or en.", CommunityErrorCode.INVALID)
    return value


def clean_positive_int(value, field: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise field_error(field, f"Must be between {low} and {high}.", CommunityErrorCode.INVALID)
    return number


def merge_errors(errors: list[ValidationError]) -> None:
    """Raise all collected field errors at once (a form shows every problem, not the first)."""
    if not errors:
        return
    merged: dict[str, list[ValidationError]] = {}
    for error in errors:
        for field, items in error.error_dict.items():
            merged.setdefault(field, []).extend(items)
    raise ValidationError(merged)
