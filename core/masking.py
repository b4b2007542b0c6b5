"""Personal data that must not reach a log line or a lesser role in full."""

from __future__ import annotations

import re


def mask_phone(phone: str) -> str:
    """+8613812345678 -> +86138****5678; used wherever a phone reaches a log or a lesser role."""
    if not phone or len(phone) < 8:
        return "****"
    return f"{phone[:-8]}****{phone[-4:]}"


# A Chinese mobile number with or without +86, digits possibly grouped by spaces or dashes;
# and any other long E.164-looking run.
_PHONE = re.compile(
    r"(?<![\d*])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){4}[\s-]?(\d{4})(?!\d)"
    r"|\+\d{7,11}(\d{4})(?!\d)"
)


def mask_phones(text: str) -> str:
    """Every phone number inside free text (a log line, a traceback) -> ****5678."""
    return _PHONE.sub(lambda m: "****" + (m.group(1) or m.group(2)), text)
