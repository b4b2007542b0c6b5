"""Input checks shared by the resident, hazard, report and import services.

Each raises django ValidationError({field: message}, code=CommunityErrorCode...), which the
GraphQL layer turns into typed `errors` and the importer into row problems.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers
from django.conf import settings

from core.errors import field_error

from .error_codes import CommunityErrorCode
from .models import Language


def clean_phone(value: object, field: str = "phone") -> str | None:
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


def clean_languages(value: Iterable[object] | None, field: str = "languages") -> list[str]:
    items = [str(v).strip() for v in (value or []) if str(v).strip()]
    if len(items) > 10 or any(len(v) > 30 for v in items):
        raise field_error(field, "At most 10 languages of at most 30 characters.", CommunityErrorCode.INVALID)
    return list(dict.fromkeys(items))


def clean_language(value: object, field: str = "preferred_language") -> str:
    value = getattr(value, "value", value) or Language.ZH_HANS
    if not isinstance(value, str) or value not in Language.values:
        raise field_error(field, "Use zh-hans or en.", CommunityErrorCode.INVALID)
    return value


def clean_positive_int(value: str | float | None, field: str, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else low - 1
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise field_error(field, f"Must be between {low} and {high}.", CommunityErrorCode.INVALID)
    return number
