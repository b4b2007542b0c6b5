"""Cleaning text that came from outside before it is stored or sent on.

Two kinds of character never reach a column:
- unstorable ones — NUL (PostgreSQL refuses it in text) and lone surrogates (no UTF-8 for
  them; JSON's "\\ud800" decodes to one) — make the database or an encoder fail: input
  holding them is refused at the edge (GraphQL) or stored without them (webhooks, whose
  senders do not retry);
- invisible ones — control characters, non-characters and bidirectional controls — are taken
  out of free text (strip_unprintable, clean_text): a U+202E in a report or an alert would
  show people other text than it holds, and control characters are forbidden in XML (CAP).
"""

from __future__ import annotations

import re

from .errors import CoreErrorCode, field_error

# Bidirectional formatting characters: ALM, LRM and RLM, the embeddings and overrides
# (LRE, RLE, PDF, LRO, RLO) and the isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Control characters (but tab and newlines), DEL, non-characters, lone surrogates and the
# bidirectional controls.
_UNPRINTABLE = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\ufffe\\uffff\\ud800-\\udfff{BIDI_CONTROLS}]")
_UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")
# A primary key in ASCII digits that fits a signed 64-bit column.
_ID = re.compile(r"[0-9]{1,18}")


def strip_unprintable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def storable(text: str) -> str:
    """`text` without NUL characters and lone surrogates."""
    return _UNSTORABLE.sub("", text)


def unstorable_in(value: object) -> str | None:
    """What in `value` (a string, or lists and dicts of them, keys included, however deep)
    no column can store — "a NUL character", "a lone surrogate" — or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found is not None:
                return "a NUL character" if found.group() == "\x00" else "a lone surrogate"
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None


def parse_id(text: object) -> int | None:
    """A row id written in ASCII digits that fits a bigint, else None. (str.isdigit() takes
    "²" and "٣", and int() takes 4,300 digits: neither is an id.)"""
    if not isinstance(text, str) or not _ID.fullmatch(text):
        return None
    return int(text)


def clean_text(value: object, field: str, max_length: int, *, required: bool = False) -> str:
    """Text stripped of invisible characters and surrounding space, within `max_length`."""
    text = "" if value is None else strip_unprintable(str(value)).strip()
    if required and not text:
        raise field_error(field, "This field is required.", CoreErrorCode.REQUIRED)
    if len(text) > max_length:
        raise field_error(field, f"At most {max_length} characters.", CoreErrorCode.TOO_LONG)
    return text
