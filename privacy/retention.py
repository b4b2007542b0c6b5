"""Retention: how long each kind of personal record is kept (settings.RETENTION_DAYS), and
the daily job that deletes or anonymises what has expired (PIPL art. 19, 47).

Apps register what they keep, so this module imports none of them:

    register("sms_bodies", anonymise_old_sms)      # purge(cutoff) -> rows deleted or anonymised

A purge touches rows older than `now - days` in batches (short transactions, no long lock),
and only rows not yet purged, so running it twice, or concurrently, does nothing more.
What reports count (message statuses, notification counts, inbound outcomes) stays; only the
personal content goes. A kind set to 0 days is kept for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .models import AccessLog

logger = logging.getLogger(__name__)

Purge = Callable[[datetime], int]
BATCH = 1000

_purges: dict[str, list[Purge]] = {}

# Periods no setting may shorten: a client may replay a mutation for 72 hours
# (mobile_api_docs/README.md), and PIPL art. 56 wants records of processing for three years.
FLOOR_DAYS = {"idempotency_records": 3, "access_log": 3 * 365}


def register(kind: str, purge: Purge) -> None:
    """Add `purge(cutoff)` to `kind` (a key of settings.RETENTION_DAYS)."""
    found = _purges.setdefault(kind, [])
    if purge not in found:
        found.append(purge)


def kinds() -> dict[str, list[Purge]]:
    return dict(_purges)


def in_batches(queryset: models.QuerySet, apply: Callable[[models.QuerySet], int], batch: int | None = None) -> int:  # type: ignore[type-arg]
    """apply(rows) on `queryset` BATCH rows at a time, each batch in its own transaction.
    `queryset` must stop matching a row once it is applied (else this never ends)."""
    total = 0
    manager = queryset.model._default_manager
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch or BATCH])
        if not ids:
            return total
        with transaction.atomic():
            total += apply(manager.filter(pk__in=ids))


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Run every registered purge whose kind has a period; {kind: rows touched}."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for kind, purges in sorted(_purges.items()):
        days = int(settings.RETENTION_DAYS.get(kind, 0) or 0)
        if days <= 0:
            continue
        days = max(days, FLOOR_DAYS.get(kind, 0))
        cutoff = now - timedelta(days=days)
        done[kind] = sum(purge(cutoff) for purge in purges)
        if done[kind]:
            logger.info("retention: %s rows of %s older than %s days purged", done[kind], kind, days)
    return done


def purge_access_log(cutoff: datetime) -> int:
    return AccessLog.objects.purge_before(cutoff)


register("access_log", purge_access_log)
