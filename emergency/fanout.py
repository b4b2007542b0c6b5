"""Driving a chunked background job (an alert, a safety check, a plan run) to completion.

    drive(Alert, alert_id, alert_chunk)   # in a Celery task; returns "done", "more", "busy", ...

`chunk(obj)` does one bounded piece of work inside a transaction and moves obj's phase,
cursor and counts on; it returns True when the job is finished. The new state is written
with a conditional UPDATE on the lease token in that same transaction, so the chunk's work
and its progress commit together, and a worker that lost its lease (it stalled past
EMERGENCY_LEASE_SECONDS and the sweep handed the job to another) rolls its chunk back.
Everything a chunk writes is also idempotent (unique rows, SMS idempotency keys), so even a
replayed chunk changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import FanoutState, FanoutStatus

# The Celery tasks that drive each kind of job (emergency/tasks.py). The names are those they
# had in the community app, so messages queued before an upgrade still find their task.
FAN_OUT_ALERT = "community.tasks.fan_out_alert"
FAN_OUT_SAFETY_CHECK = "community.tasks.fan_out_safety_check"
ADVANCE_PLAN_RUN = "community.tasks.advance_plan_run"
WIND_DOWN = "emergency.tasks.wind_down"

Job = FanoutState
Chunk = Callable[[Any], bool]
J = TypeVar("J", bound=Job)
# Job is abstract, so code over any job reaches its rows through `_default_manager` (each
# concrete model's `objects`), as Django advises for code written for any model.

logger = logging.getLogger(__name__)

STATE_FIELDS = ("fanout_status", "fanout_phase", "fanout_cursor", "fanout_counts", "fanout_error",
                "fanout_started_at", "fanout_finished_at")


class LeaseLost(Exception):
    pass


def lease_seconds() -> dt.timedelta:
    return dt.timedelta(seconds=settings.EMERGENCY_LEASE_SECONDS)


def claim(model: type[Job], pk: int) -> str | None:
    """Take the job's lease (conditional UPDATE); None when another worker holds it or it is done."""
    now = timezone.now()
    token = secrets.token_hex(8)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    claimed = model._default_manager.filter(free, pk=pk, fanout_status__in=[FanoutStatus.PENDING, FanoutStatus.RUNNING]).update(
        lease_token=token, lease_until=now + lease_seconds(),
    )
    return token if claimed else None


def release(model: type[Job], pk: int, token: str) -> None:
    model._default_manager.filter(pk=pk, lease_token=token).update(lease_token="", lease_until=None)


def _save_state(model: type[J], obj: J, token: str, *, finished: bool, counts_before: dict[str, Any]) -> None:
    now = timezone.now()
    values = {f: getattr(obj, f) for f in STATE_FIELDS}
    # Others add to the job's counters while a chunk runs (the escalation ladders count the
    # SMS they send): the chunk writes its own additions onto the counters as they are now,
    # read under the row's lock, never a copy older than theirs.
    current = (model._default_manager.select_for_update().filter(pk=obj.pk)
               .values_list("fanout_counts", flat=True).first()) or {}
    values["fanout_counts"] = merge_counts(current, counts_before, obj.fanout_counts)
    values["lease_until"] = None if finished else now + lease_seconds()
    if finished:
        values["lease_token"] = ""
    if not model._default_manager.filter(pk=obj.pk, lease_token=token).update(**values):
        raise LeaseLost(f"{model.__name__} {obj.pk}")


def drive(model: type[J], pk: int, chunk: Callable[[J], bool], *, budget: float | None = None) -> str:
    """Run chunks of job `pk` until it is finished or the time budget is spent.

    Returns "done", "more" (budget spent: the caller re-enqueues), "busy" (someone else holds
    it, or it is finished), "lost" (our lease was taken over) or "failed"."""
    token = claim(model, pk)
    if token is None:
        return "busy"
    budget = settings.EMERGENCY_FANOUT_BUDGET_SECONDS if budget is None else budget
    deadline = time.monotonic() + budget
    try:
        while True:
            chunk_started = time.monotonic()
            with transaction.atomic():
                obj = model._default_manager.get(pk=pk)
                if obj.lease_token != token:
                    return "lost"
                counts_before = dict(obj.fanout_counts or {})
                if obj.fanout_status == FanoutStatus.PENDING:
                    obj.fanout_status, obj.fanout_started_at = FanoutStatus.RUNNING, timezone.now()
                finished = bool(chunk(obj))
                if finished:
                    obj.fanout_status, obj.fanout_finished_at = FanoutStatus.DONE, timezone.now()
                _save_state(model, obj, token, finished=finished, counts_before=counts_before)
            if finished:
                return "done"
            if time.monotonic() >= deadline:
                release(model, pk, token)
                return "more"
            _let_other_writers_in(time.monotonic() - chunk_started)
    except LeaseLost:
        logger.warning("%s %s: lease lost to another worker; chunk rolled back", model.__name__, pk)
        return "lost"
    except Exception as exc:
        _record_failure(model, pk, token, exc)
        raise


MAX_ATTEMPTS = 5
# SQLite has one writer at a time and does not queue the others fairly: a fan-out that begins
# its next chunk the moment it commits keeps the outbox drainers (which must write to claim
# and record) waiting until it is finished. A pause between chunks lets them in (embedded
# footing): half the time the chunk held the lock, at least 50 ms and at most 0.1 s.
SQLITE_WRITER_GAP_SECONDS = 0.1
SQLITE_WRITER_GAP_SHARE = 0.5
SQLITE_WRITER_GAP_MIN_SECONDS = 0.05


def _let_other_writers_in(held: float) -> None:
    if connection.vendor == "sqlite":
        time.sleep(min(SQLITE_WRITER_GAP_SECONDS, max(SQLITE_WRITER_GAP_MIN_SECONDS, held * SQLITE_WRITER_GAP_SHARE)))


def _record_failure(model: type[Job], pk: int, token: str, exc: Exception) -> None:
    logger.exception("%s %s: chunk failed", model.__name__, pk)
    row = model._default_manager.filter(pk=pk).values("fanout_attempts").first() or {"fanout_attempts": 0}
    attempts = row["fanout_attempts"] + 1
    values = {"fanout_attempts": attempts, "fanout_error": f"{type(exc).__name__}: {exc}"[:500],
              "lease_token": "", "lease_until": None}
    if attempts >= MAX_ATTEMPTS:
        values.update(fanout_status=FanoutStatus.FAILED, fanout_finished_at=timezone.now())
    model._default_manager.filter(pk=pk, lease_token=token).update(**values)


def due(model: type[Job], limit: int = 100) -> list[int]:
    """Unfinished jobs nobody holds a live lease on (a lost message or a dead worker)."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    qs = model._default_manager.filter(free, fanout_status__in=[FanoutStatus.PENDING, FanoutStatus.RUNNING])
    return list(qs.order_by("pk").values_list("pk", flat=True)[:limit])


def merge_counts(current: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The chunk's changes (before -> after) applied to the counters as they are now: numbers
    by what the chunk added, anything else as the chunk left it."""
    merged = dict(current)
    for key, value in after.items():
        old = before.get(key, 0)
        if isinstance(value, int) and isinstance(old, int) and isinstance(merged.get(key, 0), int):
            merged[key] = merged.get(key, 0) + value - old
        else:
            merged[key] = value
    return merged


def add_counts(model: type[Job], pk: int, **deltas: int) -> None:
    """Add to a job's counters from outside its fan-out (an escalation ladder counting what it
    sent), under the row's lock: a chunk running meanwhile merges its own onto these."""
    current = model._default_manager.select_for_update().filter(pk=pk).values_list("fanout_counts", flat=True).first()
    counts = dict(current or {})
    bump(counts, **deltas)
    model._default_manager.filter(pk=pk).update(fanout_counts=counts)


def bump(counts: dict[str, int], **deltas: int) -> None:
    for key, value in deltas.items():
        if value:
            counts[key] = counts.get(key, 0) + value
