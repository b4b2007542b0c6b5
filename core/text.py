"""Cleaning text that came from outside before it is stored or sent on."""

from __future__ import annotations

import re

from .errors import CoreErrorCode, field_error

# Control characters (but tab and newlines) and non-characters: invisible, and forbidden in
# XML, so one pasted from a word processor would break every CAP document and feed.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def strip_unprintable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def clean_text(value: object, field: str, max_length: int, *, required: bool = False) -> str:
    """Text stripped of invisible characters and surrounding space, within `max_length`."""
    text = "" if value is None else strip_unprintable(str(value)).strip()
    if required and not text:
        raise field_error(field, "This field is required.", CoreErrorCode.REQUIRED)
    if len(text) > max_length:
        raise field_error(field, f"At most {max_length} characters.", CoreErrorCode.TOO_LONG)
    return text
