"""Sending outbox rows exactly once, at the provider's pace, and tracking their status.

One attempt:
  1. take a token from the shared bucket (SMS_RATE_PER_SECOND across all workers);
  2. claim the row with a conditional UPDATE (queued -> sending, attempts+1, claimed_at,
     claim_token); a worker that loses the race does nothing;
  3. if an earlier attempt may have reached the provider (timeout, 5xx, a killed worker),
     ask the provider first and adopt the SID it knows instead of sending again;
  4. call the provider; store the SID together with the status (sending -> sent).
Transient failures go back to queued with exponential backoff and jitter, up to
SMS_MAX_ATTEMPTS; permanent ones are recorded with the provider's code and never retried
(21610 also records an opt-out). A row left in "sending" by a dead worker is recovered by
the sweep after SMS_CLAIM_TIMEOUT_SECONDS, reconciling with the provider first.

Status only moves forward: queued < sending < sent < delivered | undelivered | failed. Each
real transition is an SmsStatusEvent; duplicated or late callbacks change nothing.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import ratelimit
from .consent import is_opted_out, opt_out, opted_out_phones
from .error_codes import SmsErrorCode
from .models import STATUS_RANK, SmsMessage, SmsStatus, SmsStatusEvent
from .outbox import status_callback_url
from .transports import SendResult, TransportError, get_transport

logger = logging.getLogger(__name__)

RATE_BUCKET = "sms:send"
UNSUBSCRIBED_CODES = {"21610"}
CONTENT_REVIEW_CODES = {"30007"}


@dataclass
class Outcome:
    status: str  # "sent", "failed", "refused", "retry", "skipped"
    retry_in: float | None = None


@dataclass
class DrainReport:
    attempted: int = 0
    retries: list[tuple[int, float]] = field(default_factory=list)
    exhausted_time: bool = False


# --- status machine -------------------------------------------------------------------------
def advance(
    message_id: int,
    to_status: str,
    *,
    source: str,
    sid: str | None = None,
    provider_status: str = "",
    error_code: str = "",
    error_message: str = "",
    extra: Mapping[str, object] | None = None,
) -> bool:
    """Move a message forward to `to_status` if that is forward; True if it moved.

    Compare-and-set on the current status, so concurrent reporters (worker, callbacks,
    sweep) each see a consistent from-state and exactly one records each transition."""
    target = STATUS_RANK[to_status]
    for _ in range(5):
        row = SmsMessage.objects.filter(pk=message_id).values("status", "provider_sid").first()
        if row is None or STATUS_RANK[row["status"]] >= target:
            return False
        if sid and row["provider_sid"] and row["provider_sid"] != sid:
            logger.warning("SMS %s: provider SID mismatch on %s; ignored", message_id, to_status)
            return False
        now = timezone.now()
        updates = {"status": to_status, "status_changed_at": now, **(extra or {})}
        if sid:
            updates["provider_sid"] = sid
        if provider_status:
            updates["provider_status"] = provider_status
        if error_code:
            updates["error_code"] = str(error_code)
            updates["error_message"] = error_message[:500]
        try:
            with transaction.atomic():
                moved = SmsMessage.objects.filter(pk=message_id, status=row["status"]).update(**updates)
                if moved:
                    SmsStatusEvent.objects.create(
                        message_id=message_id, from_status=row["status"], to_status=to_status,
                        provider_status=provider_status, error_code=str(error_code or ""), source=source, at=now,
                    )
        except IntegrityError:
            logger.error("SMS %s: provider SID already belongs to another message; not adopted", message_id)
            return False
        if moved:
            return True
    return False


# --- claiming -------------------------------------------------------------------------------
def _due_q(now: datetime) -> Q:
    # A little tolerance: a countdown task may wake a moment before the stored due time.
    return Q(status=SmsStatus.QUEUED, next_attempt_at__lte=now + timedelta(seconds=1))


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


def _claim_batch(size: int) -> list[SmsMessage]:
    """Claim up to `size` of the messages due — the most urgent kind first (a login code or a
    reply never waits behind a burst of alerts), then the longest due — in one UPDATE (rows
    other workers hold are skipped). They are then sent one by one at the shared pace."""
    now = timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = SmsMessage.objects.filter(_due_q(now)).order_by("priority", "next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:size])
        if not ids:
            return []
        SmsMessage.objects.filter(_due_q(now), pk__in=ids).update(
            status=SmsStatus.SENDING, claim_token=token, claimed_at=now, status_changed_at=now,
            attempts=F("attempts") + 1,
        )
        claimed = list(SmsMessage.objects.filter(pk__in=ids, claim_token=token).order_by("priority", "next_attempt_at", "id"))
        SmsStatusEvent.objects.bulk_create([
            SmsStatusEvent(message_id=m.pk, from_status=SmsStatus.QUEUED, to_status=SmsStatus.SENDING, source="worker", at=now)
            for m in claimed
        ])
    return claimed


def _release_unsent(messages: list[SmsMessage]) -> None:
    """Give back claimed messages this drainer will not send (its time is up)."""
    now = timezone.now()
    with transaction.atomic():
        for message in messages:
            released = SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.SENDING, claim_token=message.claim_token).update(
                status=SmsStatus.QUEUED, claim_token="", attempts=F("attempts") - 1, status_changed_at=now)
            if released:
                SmsStatusEvent.objects.create(message_id=message.pk, from_status=SmsStatus.SENDING,
                                              to_status=SmsStatus.QUEUED, source="released", at=now)


# --- one attempt ----------------------------------------------------------------------------
def deliver(message_id: int, *, pace: bool = True, pace_timeout: float = 30.0) -> Outcome:
    """Send one queued message if it is due (the send_sms task)."""
    message = SmsMessage.objects.filter(pk=message_id).only("status", "next_attempt_at", "phone").first()
    if message is None or message.status != SmsStatus.QUEUED:
        return Outcome("skipped")
    if message.next_attempt_at > timezone.now() + timedelta(seconds=1):
        return Outcome("skipped")
    if pace and not pace_sending(timeout=pace_timeout):
        return Outcome("retry", retry_in=1.0)
    claimed = _claim(message_id)
    if claimed is None:
        return Outcome("skipped")
    return attempt(claimed)


def pace_sending(timeout: float | None) -> bool:
    return ratelimit.acquire(RATE_BUCKET, rate=settings.SMS_RATE_PER_SECOND,
                             burst=settings.SMS_RATE_BURST, timeout=timeout)


def attempt(message: SmsMessage, *, opted_out: bool | None = None) -> Outcome:
    """Hand a claimed (sending) message to the provider. `opted_out` may be pre-computed
    for a batch; otherwise it is checked here (a STOP may have arrived since queueing)."""
    if opted_out if opted_out is not None else is_opted_out(message.phone):
        advance(message.pk, SmsStatus.REFUSED, source="worker", error_code=SmsErrorCode.OPTED_OUT,
                error_message="The number opted out before the message was sent.", extra={"claim_token": ""})
        return Outcome("refused")
    transport = get_transport()
    try:
        if message.reconcile_since is not None:
            found = transport.find_sent(to=message.phone, body=message.body, since=message.reconcile_since,
                                        exclude_sids=_known_sids(message))
            if found is not None:
                _record_sent(message, found, source="reconcile")
                return Outcome("sent")
        result = transport.send(to=message.phone, body=message.body, status_callback=status_callback_url(message.pk))
    except TransportError as error:
        return _record_failure(message, error)
    _record_sent(message, result, source="worker")
    return Outcome("sent")


def _known_sids(message: SmsMessage) -> set[str]:
    """SIDs already stored on other messages to this phone: never adopt those."""
    recent = message.created_at - timedelta(days=1)
    return {
        sid for sid in SmsMessage.objects.filter(phone=message.phone, created_at__gte=recent, provider_sid__isnull=False)
        .exclude(pk=message.pk).values_list("provider_sid", flat=True) if sid is not None
    }


def _record_sent(message: SmsMessage, result: SendResult, *, source: str) -> None:
    now = timezone.now()
    extra = {"sent_at": now, "reconcile_since": None, "claim_token": ""}
    if message.body_redacted:
        extra["body"] = message.body_redacted
    try:
        with transaction.atomic():
            # The common case in one UPDATE: our claim still holds and no SID is stored yet.
            if SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.SENDING, provider_sid__isnull=True).update(
                status=SmsStatus.SENT, provider_sid=result.sid, provider_status=result.provider_status,
                status_changed_at=now, **extra,
            ):
                SmsStatusEvent.objects.create(message_id=message.pk, from_status=SmsStatus.SENDING, to_status=SmsStatus.SENT,
                                              provider_status=result.provider_status, source=source, at=now)
                return
    except IntegrityError:
        pass  # the SID is on another row already: advance() below logs and refuses
    if not advance(message.pk, SmsStatus.SENT, source=source, sid=result.sid,
                   provider_status=result.provider_status, extra=extra):
        # A callback got there first (it carries our id and may have stored our SID): keep
        # the SID, the sent time and the masked body whatever the status.
        SmsMessage.objects.filter(Q(provider_sid__isnull=True) | Q(provider_sid=result.sid), pk=message.pk).update(
            provider_sid=result.sid, **extra)


def _final(message: SmsMessage) -> dict[str, object]:
    """Fields for a message that will not be sent again: a secret in its body (a login code)
    is masked now, whatever became of it."""
    extra: dict[str, object] = {"claim_token": ""}
    if message.body_redacted:
        extra["body"] = message.body_redacted
    return extra


def _record_failure(message: SmsMessage, error: TransportError) -> Outcome:
    if error.code in UNSUBSCRIBED_CODES:
        opt_out(message.phone, source="provider", keyword=error.code)
    if error.code in CONTENT_REVIEW_CODES:
        logger.error("SMS %s filtered by the carrier (%s): review the %s template", message.pk, error.code, message.template)
    if error.permanent:
        advance(message.pk, SmsStatus.FAILED, source="worker", error_code=error.code,
                error_message=error.message, extra=_final(message))
        return Outcome("failed")
    if message.attempts >= settings.SMS_MAX_ATTEMPTS:
        advance(message.pk, SmsStatus.FAILED, source="worker", error_code=error.code or SmsErrorCode.RETRIES_EXHAUSTED,
                error_message=f"Gave up after {message.attempts} attempts: {error.message}", extra=_final(message))
        return Outcome("failed")
    delay = backoff_delay(message.attempts)
    if error.maybe_sent:
        # The provider may still be completing the request we gave up on (a read time-out):
        # look for it only once it must have settled, or the retry could text twice.
        delay = max(delay, settings.SMS_AMBIGUOUS_SETTLE_SECONDS)
    _release_for_retry(message, error, delay)
    return Outcome("retry", retry_in=delay)


def backoff_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then 50-100% of it."""
    ceiling = min(settings.SMS_RETRY_MAX_SECONDS, settings.SMS_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return float(ceiling * random.uniform(0.5, 1.0))  # the settings are untyped


def _release_for_retry(message: SmsMessage, error: TransportError, delay: float) -> None:
    now = timezone.now()
    reconcile = message.reconcile_since or (message.claimed_at if error.maybe_sent else None)
    with transaction.atomic():
        released = SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.SENDING, claim_token=message.claim_token).update(
            status=SmsStatus.QUEUED, next_attempt_at=now + timedelta(seconds=delay), claim_token="",
            error_code=error.code, error_message=error.message[:500], reconcile_since=reconcile, status_changed_at=now,
        )
        if released:
            SmsStatusEvent.objects.create(message_id=message.pk, from_status=SmsStatus.SENDING, to_status=SmsStatus.QUEUED,
                                          error_code=error.code, source="retry", at=now)


# --- draining the backlog -------------------------------------------------------------------
def drain(*, max_seconds: float, heartbeat: Callable[[], None] | None = None) -> DrainReport:
    """Send due messages one after another at the shared pace, for at most `max_seconds`;
    `heartbeat()` is called before each batch (it keeps the drainer's slot alive)."""
    report = DrainReport()
    deadline = time.monotonic() + max_seconds
    # Claim about a quarter second's worth at a time: one claim per message at 1/s, fewer
    # queries per message at hundreds per second.
    size = max(1, min(50, int(settings.SMS_RATE_PER_SECOND / 4)))
    while True:
        if heartbeat is not None:
            heartbeat()
        batch = _claim_batch(size)
        if not batch:
            return report
        refused = opted_out_phones(m.phone for m in batch)
        for index, message in enumerate(batch):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not pace_sending(timeout=remaining):
                _release_unsent(batch[index:])
                report.exhausted_time = True
                return report
            report.attempted += 1
            outcome = attempt(message, opted_out=message.phone in refused)
            if outcome.retry_in is not None:
                report.retries.append((message.pk, outcome.retry_in))


def backlog_exceeds(n: int) -> bool:
    """More than `n` messages due now (a count bounded by n, cheap on a big backlog)."""
    due = SmsMessage.objects.filter(_due_q(timezone.now())).values("id")[: n + 1]
    return due.count() > n


# A drainer refreshes its slot before every batch; a killed one frees it within this time.
DRAIN_SLOT_TTL_SECONDS = 15


def take_drain_slot() -> tuple[str, str] | None:
    """At most SMS_MAX_DRAINERS drainers at once, so a burst never fills every worker."""
    token = uuid.uuid4().hex
    for slot in range(settings.SMS_MAX_DRAINERS):
        key = f"linli:sms:drainer:{slot}"
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
        try:
            found = get_transport().find_sent(to=message.phone, body=message.body, since=message.claimed_at,
                                              exclude_sids=_known_sids(message))
        except TransportError as error:
            logger.warning("SMS %s: cannot reconcile yet (%s); next sweep retries", message.pk, error.code)
            continue
        if found is not None:
            _record_sent(message, found, source="sweep")
        else:
            _requeue_stuck(message, now)
        recovered += 1
    return recovered


def _requeue_stuck(message: SmsMessage, now: datetime) -> None:
    if message.attempts >= settings.SMS_MAX_ATTEMPTS:
        advance(message.pk, SmsStatus.FAILED, source="sweep", error_code=SmsErrorCode.RETRIES_EXHAUSTED,
                error_message="Worker lost too many times.", extra=_final(message))
        return
    with transaction.atomic():
        moved = SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.SENDING, claim_token=message.claim_token).update(
            status=SmsStatus.QUEUED, next_attempt_at=now, claim_token="", reconcile_since=None, status_changed_at=now,
        )
        if moved:
            SmsStatusEvent.objects.create(message_id=message.pk, from_status=SmsStatus.SENDING,
                                          to_status=SmsStatus.QUEUED, source="sweep", at=now)


def has_overdue(now: datetime | None = None) -> bool:
    """Queued rows due for a while that nobody picked up (a lost broker message)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SMS_REQUEUE_AFTER_SECONDS)
    return SmsMessage.objects.filter(status=SmsStatus.QUEUED, next_attempt_at__lt=cutoff).exists()


# --- provider status callbacks --------------------------------------------------------------
PROVIDER_STATUS = {
    "accepted": SmsStatus.SENT,
    "scheduled": SmsStatus.SENT,
    "queued": SmsStatus.SENT,
    "sending": SmsStatus.SENT,
    "sent": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "read": SmsStatus.DELIVERED,
    "undelivered": SmsStatus.UNDELIVERED,
    "failed": SmsStatus.FAILED,
    "canceled": SmsStatus.FAILED,
}


def record_provider_status(*, sid: str, provider_status: str, error_code: str = "", message_id: int | None = None) -> bool:
    """Apply a status callback. True if it moved the message forward; duplicates and late
    arrivals are no-ops. The callback URL carries our message id, so a callback that beats
    the worker's SID write still finds its message."""
    to_status = PROVIDER_STATUS.get((provider_status or "").lower())
    if to_status is None:
        logger.warning("status callback with unknown status %r ignored", provider_status)
        return False
    qs = SmsMessage.objects.filter(pk=message_id) if message_id else SmsMessage.objects.filter(provider_sid=sid)
    message = qs.only("pk", "phone", "template").first()
    if message is None:
        return False
    error_code = str(error_code or "")
    if error_code in UNSUBSCRIBED_CODES:
        opt_out(message.phone, source="provider", keyword=error_code)
    if error_code in CONTENT_REVIEW_CODES:
        logger.error("SMS %s filtered by the carrier (%s): review the %s template", message.pk, error_code, message.template)
    return advance(message.pk, to_status, source="callback", sid=sid, provider_status=provider_status.lower(),
                   error_code=error_code if to_status in (SmsStatus.FAILED, SmsStatus.UNDELIVERED) else "")
