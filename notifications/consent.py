"""Who may be texted: numbers that opted out (STOP/退订, or 21610 from the provider) may not."""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers

from .models import SmsOptOut

# E.164 strings, or the PhoneNumber a PhoneNumberField holds (str() gives E.164).
Phone = str | phonenumbers.PhoneNumber


def is_opted_out(phone: Phone | None) -> bool:
    return bool(phone) and SmsOptOut.objects.filter(phone=str(phone)).exists()


def opted_out_phones(phones: Iterable[Phone | None]) -> set[str]:
    """The subset of `phones` (E.164 strings) that opted out, in one query."""
    wanted = {str(p) for p in phones if p}
    if not wanted:
        return set()
    return {str(p) for p in SmsOptOut.objects.filter(phone__in=wanted).values_list("phone", flat=True)}


def opt_out(phone: Phone, *, source: str = "keyword", keyword: str = "") -> bool:
    """Record an opt-out; True if it is new."""
    _, created = SmsOptOut.objects.get_or_create(phone=str(phone), defaults={"source": source, "keyword": keyword})
    return created


def opt_in(phone: Phone) -> bool:
    """Remove an opt-out (START/订阅); True if there was one."""
    deleted, _ = SmsOptOut.objects.filter(phone=str(phone)).delete()
    return bool(deleted)
