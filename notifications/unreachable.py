"""Numbers carriers report as not reachable (空号, 停机, unknown handset), one row per number.

    note_unreachable("+8613900000001", "MK:0001")   # a receipt or a send said so; True once marked
    note_reachable("+8613900000001")                # delivered, or the number texted us
    unreachable_phones([...]) -> {"+8613900000001"}

A number is marked after SMS_UNREACHABLE_AFTER_FAILURES such reports in a row (one report
can be a carrier's passing hiccup; three are a dead number), and forgotten after
SMS_UNREACHABLE_FORGET_DAYS (numbers are reissued). While marked, the outbox refuses texts to
it (error code "unreachable") except login codes, which someone asked for just now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .models import SmsUnreachableNumber


def _current_q(now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    forget = now - dt.timedelta(days=settings.SMS_UNREACHABLE_FORGET_DAYS)
    return Q(unreachable_since__isnull=False, last_failed_at__gt=forget)


def marked_numbers(now: dt.datetime | None = None) -> QuerySet[SmsUnreachableNumber]:
    """The numbers marked unreachable now (for Exists(...) subqueries of other apps)."""
    return SmsUnreachableNumber.objects.filter(_current_q(now))


def note_unreachable(phone: str, code: str, *, now: dt.datetime | None = None) -> bool:
    """Count one "not reachable" report for `phone`; True when this one marks it."""
    if not phone:
        return False
    now = now or timezone.now()
    threshold = max(1, int(settings.SMS_UNREACHABLE_AFTER_FAILURES))
    with transaction.atomic():
        try:
            with transaction.atomic():
                row, created = SmsUnreachableNumber.objects.get_or_create(
                    phone=phone, defaults={"failures": 1, "last_code": code[:64], "first_failed_at": now,
                                           "last_failed_at": now})
        except IntegrityError:  # a concurrent first report
            row, created = SmsUnreachableNumber.objects.get(phone=phone), False
        if not created:
            SmsUnreachableNumber.objects.filter(pk=row.pk).update(failures=F("failures") + 1, last_code=code[:64],
                                                                  last_failed_at=now)
            row.refresh_from_db()
        if row.failures >= threshold and row.unreachable_since is None:
            return bool(SmsUnreachableNumber.objects.filter(pk=row.pk, unreachable_since__isnull=True)
                        .update(unreachable_since=now))
    return False


def note_reachable(phone: str) -> bool:
    """A delivery succeeded or the number texted us: forget its failures."""
    deleted, _ = SmsUnreachableNumber.objects.filter(phone=phone).delete()
    return bool(deleted)


def unreachable_phones(phones: Iterable[str | None]) -> set[str]:
    """The subset of `phones` (E.164) marked unreachable now, in one query per 900."""
    wanted = sorted({str(p) for p in phones if p})
    found: set[str] = set()
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        found.update(SmsUnreachableNumber.objects.filter(_current_q(), phone__in=chunk).values_list("phone", flat=True))
    return found


def is_unreachable(phone: str | None) -> bool:
    return bool(phone) and SmsUnreachableNumber.objects.filter(_current_q(), phone=str(phone)).exists()
