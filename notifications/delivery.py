"""Sending outbox rows exactly once, most urgent first, at each provider's pace, and tracking
their status.

One round of a drainer (drain) on one route (notifications/routing.py: +86 numbers go to the
domestic providers, the rest to Twilio):
  1. take a batch's worth of tokens from the bucket of the route's first provider that is
     not paused — before claiming, so drainers side by side hand batches over in the order
     they claimed them;
  2. claim up to that many due messages of the route with one conditional UPDATE, in claim
     order: lane (login, life-safety, standard, courtesy: notifications/lanes.py), then
     vulnerable recipients first, then the oldest (queued -> sending, attempts+1,
     claim_token); rows other workers hold are skipped;
  3. refuse those that must not go any more (the number opted out, or was marked
     unreachable, since they were queued); look first at the provider that may already have
     one when an earlier attempt may have reached it (a time-out, a 5xx, a killed worker);
  4. hand the rest to the provider in as few calls as it takes (send_batch: up to 1,000
     numbers per Aliyun call, 200 per Tencent call, one per Twilio call) and store each
     message's SID with its status (sending -> sent).
When a provider refuses for a reason that is not the message's own — credentials, balance,
throttling, connection refused, a template it does not have — the messages go to the route's
next provider at once; an account-wide refusal also pauses the provider for every worker
(routing.pause). With no provider left they wait in the queue without losing an attempt.
A message's own transient failure goes back to queued with exponential backoff and jitter, up
to SMS_MAX_ATTEMPTS; a permanent one is recorded with the provider's code and never retried
(an unsubscribed code also records an opt-out; an unreachable code counts towards marking the
number, notifications/unreachable.py). A message the provider may have taken (maybe_sent) is
never sent through another provider: it waits SMS_AMBIGUOUS_SETTLE_SECONDS, then that provider
is asked before it is sent again. A row left in "sending" by a dead worker is recovered by the
sweep after SMS_CLAIM_TIMEOUT_SECONDS, reconciling with its provider first.

Status only moves forward: queued < sending < sent < delivered | undelivered | failed (refused
and superseded leave queued for good). Each real transition is an SmsStatusEvent; duplicated
or late callbacks change nothing. The app that queued a message hears what became of it
through notifications.outcomes (handed over, delivered, failed).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from . import outcomes, routing
from .error_codes import SmsErrorCode
from .handover import (
    CONTENT_REVIEW_CODES,
    Outcome,
    backoff_delay,
    final_fields,
    known_sids,
    outgoing,
    record_sent_slowly,
    refuse_at_send,
    send_claimed,
)
from .lanes import Lane
from .models import SmsMessage, SmsStatus, SmsStatusEvent
from .outbox import CONSENT_EXEMPT_PURPOSES
from .routing import Provider
from .status import advance
from .transports import TransportError

logger = logging.getLogger(__name__)

RATE_BUCKET = routing.LEGACY_BUCKET
SLEEP_THROUGH_PAUSE_SECONDS = 2.0
DRAIN_YIELD_SECONDS = 0.3  # longer waits for tokens free the worker thread
CLAIM_ORDER = ("lane", "-is_vulnerable", "id")
__all__ = ["CONTENT_REVIEW_CODES", "Outcome", "advance", "backoff_delay", "deliver", "drain", "send_claimed"]


@dataclass
class DrainReport:
    attempted: int = 0
    retries: list[tuple[int, float]] = field(default_factory=list)
    exhausted_time: bool = False
    paused_for: float = 0.0  # every provider of the route is paused: come back after this long
    come_back_in: float = 0.0  # the route's pace is slow: come back when its tokens are there
    life_safety_retries: set[int] = field(default_factory=set)


# --- claiming -------------------------------------------------------------------------------
def _due_q(now: datetime) -> Q:
    # A little tolerance: a countdown task may wake a moment before the stored due time.
    return Q(status=SmsStatus.QUEUED, next_attempt_at__lte=now + timedelta(seconds=1))


def _scope_q(route: str | None, max_lane: int | None) -> Q:
    """Messages of one route (None: every route) and, for life-safety drainers, lanes up to
    `max_lane`. Route "*" also takes rows whose route is no longer configured."""
    scope = Q()
    if route == routing.ANY:
        others = [key for key in routing.route_keys() if key != routing.ANY]
        scope &= ~Q(route__in=others) if others else Q()
    elif route is not None:
        scope &= Q(route=route)
    if max_lane is not None:
        scope &= Q(lane__lte=max_lane)
    return scope


def _claim(message_id: int) -> SmsMessage | None:
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = SmsMessage.objects.filter(_due_q(now), pk=message_id).update(
        status=SmsStatus.SENDING, claim_token=token, claimed_at=now, status_changed_at=now,
        attempts=F("attempts") + 1,
    )
    if claimed != 1:
        return None
    SmsStatusEvent.objects.create(message_id=message_id, from_status=SmsStatus.QUEUED,
                                  to_status=SmsStatus.SENDING, source="worker", at=now)
    return SmsMessage.objects.get(pk=message_id)


def _claim_batch(size: int, *, route: str | None = None, max_lane: int | None = None) -> list[SmsMessage]:
    """Claim up to `size` due messages in claim order — the most urgent lane first (a login
    code or a safety question never waits behind a burst of courtesy replies), vulnerable
    recipients first within a lane, then the oldest — in one UPDATE (rows other workers hold
    are skipped)."""
    now = timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = SmsMessage.objects.filter(_due_q(now), _scope_q(route, max_lane)).order_by(*CLAIM_ORDER)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:size])
        if not ids:
            return []
        SmsMessage.objects.filter(_due_q(now), pk__in=ids).update(
            status=SmsStatus.SENDING, claim_token=token, claimed_at=now, status_changed_at=now,
            attempts=F("attempts") + 1,
        )
        claimed = list(SmsMessage.objects.filter(pk__in=ids, claim_token=token).order_by(*CLAIM_ORDER))
        SmsStatusEvent.objects.bulk_create([
            SmsStatusEvent(message_id=m.pk, from_status=SmsStatus.QUEUED, to_status=SmsStatus.SENDING, source="worker", at=now)
            for m in claimed
        ])
    return claimed


def _has_due(route: str | None, max_lane: int | None) -> bool:
    return SmsMessage.objects.filter(_due_q(timezone.now()), _scope_q(route, max_lane)).exists()


# --- one message now (send_sms) -------------------------------------------------------------
def deliver(message_id: int, *, pace: bool = True, pace_timeout: float = 30.0) -> Outcome:
    """Send one queued message if it is due (the send_sms task)."""
    message = SmsMessage.objects.filter(pk=message_id).only("status", "next_attempt_at", "route").first()
    if message is None or message.status != SmsStatus.QUEUED:
        return Outcome("skipped")
    if message.next_attempt_at > timezone.now() + timedelta(seconds=1):
        return Outcome("skipped")
    providers = routing.providers_for(message.route)
    if not providers:  # every provider of the route is paused: come back when one is not
        wait = provider_wait(message.route)
        SmsMessage.objects.filter(pk=message_id, status=SmsStatus.QUEUED).update(
            next_attempt_at=timezone.now() + timedelta(seconds=wait))
        return Outcome("retry", retry_in=wait)
    if pace and not providers[0].pace(1, timeout=pace_timeout):
        return Outcome("retry", retry_in=1.0)
    claimed = _claim(message_id)
    if claimed is None:
        return Outcome("skipped")
    return send_claimed([claimed], providers, paced=pace)[claimed.pk]


def provider_wait(route: str) -> float:
    # Over the claim's one-second tolerance, so a re-run before then finds nothing due.
    return max(2.0, routing.seconds_until_available(route))


def pace_sending(timeout: float | None, *, route: str = routing.ANY) -> bool:
    """One token from the bucket of the route's first available provider."""
    providers = routing.providers_for(route)
    return bool(providers) and providers[0].pace(1, timeout=timeout)


def attempt(message: SmsMessage, *, opted_out: bool | None = None) -> Outcome:
    """Hand one claimed (sending) message to its route's providers (tests and callers that
    claimed it themselves)."""
    providers = routing.providers_for(message.route)
    if opted_out and message.purpose not in CONSENT_EXEMPT_PURPOSES:
        refuse_at_send([message], {message.pk: SmsErrorCode.OPTED_OUT})
        outcomes.failed([message])
        return Outcome("refused")
    return send_claimed([message], providers)[message.pk]


# --- draining the backlog -------------------------------------------------------------------
def drain(*, route: str = routing.ANY, max_lane: int | None = None, max_seconds: float,
          heartbeat: Callable[[], None] | None = None) -> DrainReport:
    """Send the route's due messages batch after batch at its providers' pace, for at most
    `max_seconds` (life-safety drainers: only lanes up to `max_lane`); `heartbeat()` is
    called before each batch (it keeps the drainer's slot alive)."""
    report = DrainReport()
    deadline = time.monotonic() + max_seconds
    while True:
        if heartbeat is not None:
            heartbeat()
        providers = _providers_or_pause(route, deadline, report)
        if providers is None:
            return report
        if not providers:
            continue
        if not _has_due(route, max_lane):
            return report
        size = providers[0].batch_size
        if not _tokens(providers[0], size, deadline, report):
            return report
        batch = _claim_batch(size, route=route, max_lane=max_lane)
        if not batch:
            return report
        report.attempted += len(batch)
        _note_retries(report, batch, send_claimed(batch, providers))


def _note_retries(report: DrainReport, batch: list[SmsMessage], outcomes_by_id: dict[int, Outcome]) -> None:
    lanes = {m.pk: m.lane for m in batch}
    for message_id, outcome in outcomes_by_id.items():
        if outcome.retry_in is not None:
            report.retries.append((message_id, outcome.retry_in))
            if lanes.get(message_id, Lane.STANDARD) <= Lane.LIFE_SAFETY:
                report.life_safety_retries.add(message_id)


def _providers_or_pause(route: str, deadline: float, report: DrainReport) -> list[Provider] | None:
    """The route's providers; [] after sleeping through a short pause (a throttle: cheaper
    than handing over to a new task); None when they are all paused for longer."""
    providers = routing.providers_for(route)
    if providers:
        return providers
    wait = routing.seconds_until_available(route)
    if wait <= SLEEP_THROUGH_PAUSE_SECONDS and time.monotonic() + wait < deadline:
        time.sleep(wait + 0.01)
        return []
    report.paused_for = max(1.0, wait)
    return None


def _tokens(provider: Provider, size: int, deadline: float, report: DrainReport) -> bool:
    """Tokens for a batch, before it is claimed: side-by-side drainers hand over in claim
    order. A drainer does not sit on a worker thread waiting for a slow account's tokens
    (Twilio at 1/s): it hands over to a task due when they are there."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        report.exhausted_time = True
        return False
    now = provider.try_pace(size)
    if now.allowed:
        return True
    if now.retry_after > min(remaining, DRAIN_YIELD_SECONDS):
        report.come_back_in = now.retry_after
        return False
    if not provider.pace(size, timeout=min(remaining, DRAIN_YIELD_SECONDS)):
        report.come_back_in = size / max(provider.rate, 0.01)
        return False
    return True


def backlog_exceeds(n: int, *, route: str | None = None) -> bool:
    """More than `n` messages due now (a count bounded by n, cheap on a big backlog)."""
    due = SmsMessage.objects.filter(_due_q(timezone.now()), _scope_q(route, None)).values("id")[: n + 1]
    return due.count() > n


# A drainer refreshes its slot before every batch; a killed one frees it within this time.
DRAIN_SLOT_TTL_SECONDS = 15


def take_drain_slot(route: str = routing.ANY, *, life_safety: bool = False) -> tuple[str, str] | None:
    """At most SMS_MAX_DRAINERS drainers per route at once (SMS_LIFE_SAFETY_DRAINERS for the
    life-safety ones, which have slots of their own), so a burst never fills every worker."""
    token = uuid.uuid4().hex
    slots = settings.SMS_LIFE_SAFETY_DRAINERS if life_safety else settings.SMS_MAX_DRAINERS
    group = "life-safety" if life_safety else "all"
    for slot in range(slots):
        key = f"linli:sms:drainer:{group}:{route}:{slot}"
        if cache.add(key, token, timeout=DRAIN_SLOT_TTL_SECONDS):
            return key, token
    return None


def keep_drain_slot(slot: tuple[str, str]) -> None:
    key, token = slot
    if cache.get(key) == token:
        cache.touch(key, DRAIN_SLOT_TTL_SECONDS)


def release_drain_slot(slot: tuple[str, str]) -> None:
    key, token = slot
    if cache.get(key) == token:
        cache.delete(key)


# --- the sweep ------------------------------------------------------------------------------
def recover_stuck(now: datetime | None = None) -> int:
    """Rows left in "sending" past the claim timeout (a dead worker): adopt what the provider
    already has, otherwise put them back in the queue. Returns rows recovered."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS)
    recovered = 0
    for message in SmsMessage.objects.filter(status=SmsStatus.SENDING, claimed_at__lt=cutoff).order_by("claimed_at")[:500]:
        assert message.claimed_at is not None  # the filter above excludes NULL
        found = None
        # The worker died somewhere between claiming and recording: any provider of the route
        # may have it (the one that had it earlier, else those the route uses now).
        names = [message.provider] if message.provider else routing.provider_names(message.route)
        try:
            for name in names:
                found = routing.transport_named(name).find_sent(
                    to=message.phone, body=message.body, since=message.claimed_at, exclude_sids=known_sids(message),
                    message=outgoing(message))
                if found is not None:
                    record_sent_slowly(message, found, provider=name, source="sweep", now=timezone.now())
                    outcomes.handed_over([message])
                    break
        except TransportError as error:
            logger.warning("SMS %s: cannot reconcile yet (%s); next sweep retries", message.pk, error.code)
            continue
        if found is None:
            _requeue_stuck(message, now)
        recovered += 1
    return recovered


def _requeue_stuck(message: SmsMessage, now: datetime) -> None:
    if message.attempts >= settings.SMS_MAX_ATTEMPTS:
        if advance(message.pk, SmsStatus.FAILED, source="sweep", error_code=SmsErrorCode.RETRIES_EXHAUSTED,
                   error_message="Worker lost too many times.", extra=final_fields(message)):
            message.status, message.error_code = SmsStatus.FAILED, SmsErrorCode.RETRIES_EXHAUSTED
            outcomes.failed([message])
        return
    with transaction.atomic():
        moved = SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.SENDING, claim_token=message.claim_token).update(
            status=SmsStatus.QUEUED, next_attempt_at=now, claim_token="", reconcile_since=None, status_changed_at=now,
        )
        if moved:
            SmsStatusEvent.objects.create(message_id=message.pk, from_status=SmsStatus.SENDING,
                                          to_status=SmsStatus.QUEUED, source="sweep", at=now)


def overdue_routes(now: datetime | None = None) -> dict[str, bool]:
    """Routes with queued rows due for a while that nobody picked up (a lost broker message),
    each with whether a life-safety one is among them."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SMS_REQUEUE_AFTER_SECONDS)
    rows = (SmsMessage.objects.filter(status=SmsStatus.QUEUED, next_attempt_at__lt=cutoff)
            .values("route").order_by("route").annotate(min_lane=Min("lane")))
    return {row["route"]: row["min_lane"] <= Lane.LIFE_SAFETY for row in rows}


def has_overdue(now: datetime | None = None) -> bool:
    return bool(overdue_routes(now))
