"""Handing claimed messages to a route's providers, and recording what they answered.

    send_claimed(messages, routing.providers_for(route)) -> {message id: Outcome}

Messages that must not go any more are refused (the number opted out, or was marked
unreachable, since they were queued); those an earlier attempt may have delivered are first
looked for at the provider that may have them; the rest go to the first provider in as few
calls as it takes (send_batch). When a provider refuses for a reason that is not the
message's own — credentials, balance, throttling, connection refused, a template it does not
have — the messages go to the route's next provider at once, and an account-wide refusal
pauses the provider for every worker (routing.pause); with no provider left they wait in the
queue without losing an attempt. A message's own transient failure goes back to queued with
exponential backoff and jitter, up to SMS_MAX_ATTEMPTS; a permanent one is recorded with the
provider's code and never retried. A message the provider may have taken (maybe_sent) is
never sent through another provider. The app that queued the messages hears what became of
them through notifications.outcomes.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import outcomes, routing, unreachable
from .consent import opt_out, opted_out_phones
from .error_codes import SmsErrorCode
from .models import SmsMessage, SmsStatus, SmsStatusEvent
from .outbox import CONSENT_EXEMPT_PURPOSES, UNREACHABLE_EXEMPT_PURPOSES, status_callback_url
from .routing import Provider
from .status import advance
from .transports import OutgoingSms, SendResult, TransportError
from .transports.provider_templates import NO_TEMPLATE, TEMPLATE_PARAMS

logger = logging.getLogger(__name__)

CONTENT_REVIEW_CODES = {"30007"}
# A provider about to answer for a message that failed over waits at most this long for
# tokens in its own bucket before the message goes back to the queue.
FAILOVER_PACE_SECONDS = 5.0
THROTTLE_RETRIES = 2  # a throttled batch with nowhere else to go is sent again this often after a short wait


@dataclass
class Outcome:
    status: str  # "sent", "failed", "refused", "retry", "skipped"
    retry_in: float | None = None


def send_claimed(messages: list[SmsMessage], providers: list[Provider], *, paced: bool = True) -> dict[int, Outcome]:
    """Hand claimed messages to the first of `providers` that takes them (see the module
    docstring); one Outcome per message id. The first provider's tokens were taken by the
    caller; a provider taking over after a failure takes its own (when `paced`)."""
    result: dict[int, Outcome] = {}
    handed: list[SmsMessage] = []
    failed: list[SmsMessage] = []
    pending = _refuse_blocked(messages, result, failed)
    pending = _reconcile(pending, result, handed, failed)
    last_error: dict[int, TransportError] = {}
    provider_down = False
    for index, provider in enumerate(providers):
        if not pending:
            break
        if index > 0 and paced and not provider.pace(len(pending), timeout=FAILOVER_PACE_SECONDS):
            continue
        last = index == len(providers) - 1
        for retry in range(THROTTLE_RETRIES + 1):
            elsewhere = _try(provider, pending, result, handed, failed, last_error)
            if not (last and retry < THROTTLE_RETRIES and _throttled(provider, pending, elsewhere, last_error)):
                break
            # The account's window is full and nobody else can carry them: the same claimed
            # batch goes again once the window has moved on (cheaper than queue and claim).
            time.sleep(float(settings.SMS_PROVIDER_THROTTLE_SECONDS))
        provider_down = _pause_if_down(provider, [last_error[m.pk] for m in elsewhere],
                                       everything=len(elsewhere) == len(pending))
        pending = elsewhere
    _leftovers(pending, last_error, providers, provider_down, result, failed)
    outcomes.handed_over(handed)
    outcomes.failed(failed)
    return result


def _try(provider: Provider, pending: list[SmsMessage], result: dict[int, Outcome], handed: list[SmsMessage],
         failed: list[SmsMessage], last_error: dict[int, TransportError]) -> list[SmsMessage]:
    """One round with one provider; returns the messages another provider may still carry."""
    answers = _send_through(provider, pending)
    elsewhere: list[SmsMessage] = []
    sent: list[tuple[SmsMessage, SendResult]] = []
    for message, answer in zip(pending, answers, strict=True):
        if isinstance(answer, SendResult):
            sent.append((message, answer))
        elif _may_go_elsewhere(answer):
            elsewhere.append(message)
            last_error[message.pk] = answer
        else:
            result[message.pk] = _record_failure(message, answer, provider=provider.name, failed=failed)
    handed.extend(_record_sent(sent, provider=provider.name, source="worker"))
    for message, _ in sent:
        result[message.pk] = Outcome("sent")
    return elsewhere


def _throttled(provider: Provider, pending: list[SmsMessage], elsewhere: list[SmsMessage],
               last_error: Mapping[int, TransportError]) -> bool:
    """The whole call was refused for the account's rate (not one number's limits)."""
    codes = provider.transport.throttle_codes
    return bool(elsewhere) and len(elsewhere) == len(pending) and all(last_error[m.pk].code in codes for m in elsewhere)


def _refuse_blocked(messages: list[SmsMessage], result: dict[int, Outcome], failed: list[SmsMessage]) -> list[SmsMessage]:
    """Messages whose number opted out, or was marked unreachable, since they were queued
    are refused now; the others are returned."""
    phones = [m.phone for m in messages]
    stopped = opted_out_phones(phones)
    dead = unreachable.unreachable_phones(phones)
    blocked: dict[int, str] = {}
    for m in messages:
        if m.phone in stopped and m.purpose not in CONSENT_EXEMPT_PURPOSES:
            blocked[m.pk] = SmsErrorCode.OPTED_OUT
        elif m.phone in dead and m.purpose not in UNREACHABLE_EXEMPT_PURPOSES:
            blocked[m.pk] = SmsErrorCode.UNREACHABLE
    if not blocked:
        return messages
    refused = [m for m in messages if m.pk in blocked]
    refuse_at_send(refused, blocked)
    for m in refused:
        result[m.pk] = Outcome("refused")
    failed.extend(refused)
    return [m for m in messages if m.pk not in blocked]


def refuse_at_send(messages: list[SmsMessage], codes: Mapping[int, str]) -> None:
    why: dict[str, str] = {SmsErrorCode.OPTED_OUT: "The number opted out before the message was sent.",
                           SmsErrorCode.UNREACHABLE: "The number was marked unreachable before the message was sent."}
    for message in messages:
        code = codes[message.pk]
        advance(message.pk, SmsStatus.REFUSED, source="worker", error_code=code, error_message=why.get(code, code),
                extra=final_fields(message))
        message.status, message.error_code = SmsStatus.REFUSED, code


def _reconcile(messages: list[SmsMessage], result: dict[int, Outcome], handed: list[SmsMessage],
               failed: list[SmsMessage]) -> list[SmsMessage]:
    """Messages an earlier attempt may have delivered: ask the provider that may have them;
    adopt what it has, send the rest. Returns the messages still to send."""
    remaining = []
    for message in messages:
        if message.reconcile_since is None:
            remaining.append(message)
            continue
        transport = routing.transport_named(message.provider)
        try:
            found = transport.find_sent(to=message.phone, body=message.body, since=message.reconcile_since,
                                        exclude_sids=known_sids(message), message=outgoing(message))
        except TransportError as error:
            result[message.pk] = _record_failure(message, error, provider=message.provider, failed=failed)
            continue
        if found is None:
            remaining.append(message)
            continue
        handed.extend(_record_sent([(message, found)], provider=message.provider, source="reconcile"))
        result[message.pk] = Outcome("sent")
    return remaining


def outgoing(message: SmsMessage) -> OutgoingSms:
    return OutgoingSms(
        message_id=message.pk, to=message.phone, body=message.body, template=message.template,
        params={str(k): str(v) for k, v in (message.params or {}).items()}, language=message.language,
        is_drill=message.is_drill, status_callback=status_callback_url(message.pk),
    )


def _send_through(provider: Provider, messages: list[SmsMessage]) -> list[SendResult | TransportError]:
    """One answer per message, in order: the provider's calls, as many numbers each as it takes."""
    answers: list[SendResult | TransportError] = []
    size = max(1, provider.transport.max_batch)
    for start in range(0, len(messages), size):
        chunk = messages[start:start + size]
        try:
            got = provider.transport.send_batch([outgoing(m) for m in chunk])
        except TransportError as error:  # a transport that raises for the whole call
            got = [error] * len(chunk)
        except Exception as exc:
            logger.exception("SMS provider %s: unexpected error", provider.name)
            got = [TransportError(f"{type(exc).__name__} in {provider.name}", "error", maybe_sent=True)] * len(chunk)
        if len(got) != len(chunk):
            got = [TransportError(f"{provider.name} answered {len(got)} results for {len(chunk)}", "error",
                                  maybe_sent=True)] * len(chunk)
        answers.extend(got)
    return answers


def _may_go_elsewhere(error: TransportError) -> bool:
    """Not the message's own fault and surely not sent: another provider may carry it now
    (credentials, balance, throttling, connection refused, a template this one lacks)."""
    if error.maybe_sent:
        return False
    if error.operator or error.code in (NO_TEMPLATE, TEMPLATE_PARAMS):
        return True
    return not error.permanent


def _pause_if_down(provider: Provider, errors: list[TransportError], *, everything: bool) -> bool:
    """Pause a provider that refused for account-wide reasons: operator errors (credentials,
    balance) long; a call refused as a whole for a passing reason that is not one number's
    limit briefly (connection refused: SMS_PROVIDER_PAUSE_SECONDS; throttled, a second or
    less: SMS_PROVIDER_THROTTLE_SECONDS). True when it was paused."""
    account = next((e for e in errors if e.operator and not e.permanent), None)
    if account is not None:
        routing.pause(provider.name, float(settings.SMS_PROVIDER_COOLDOWN_SECONDS), error=account)
        return True
    per_number = provider.transport.per_number_limit_codes
    passing = [e for e in errors if not e.permanent and not e.operator and e.code not in per_number]
    if everything and passing and len(passing) == len(errors):
        throttled = all(e.code in provider.transport.throttle_codes for e in passing)
        seconds = settings.SMS_PROVIDER_THROTTLE_SECONDS if throttled else settings.SMS_PROVIDER_PAUSE_SECONDS
        routing.pause(provider.name, float(seconds), error=passing[0])
        return True
    return False


def _leftovers(pending: list[SmsMessage], last_error: Mapping[int, TransportError], providers: list[Provider],
               provider_down: bool, result: dict[int, Outcome], failed: list[SmsMessage]) -> None:
    """Messages no provider took. A provider being down is not the message's fault: it
    waits without losing an attempt; its own passing trouble (a per-number limit) counts as
    an attempt; a template no provider has fails it."""
    waiting: list[SmsMessage] = []
    for message in pending:
        error = last_error.get(message.pk) or TransportError("no SMS provider available", "no_provider")
        name = providers[-1].name if providers else message.provider
        if error.permanent:  # a template or sign no provider of the route has approved
            logger.error("SMS %s: no provider of route %s can send template %s (%s)", message.pk, message.route,
                         message.template, error.code)
            result[message.pk] = _record_failure(message, error, provider=name, failed=failed)
        elif error.operator or provider_down or error.code == "no_provider":
            waiting.append(message)
        else:
            result[message.pk] = _record_failure(message, error, provider=name, failed=failed)
    if waiting:
        delay = routing.seconds_until_available(waiting[0].route)
        release_unsent(waiting, delay=delay, source="no_provider", errors=last_error)
        for message in waiting:
            result[message.pk] = Outcome("retry", retry_in=delay)


def known_sids(message: SmsMessage) -> set[str]:
    """SIDs already stored on other messages to this phone: never adopt those."""
    recent = message.created_at - timedelta(days=1)
    return {
        sid for sid in SmsMessage.objects.filter(phone=message.phone, created_at__gte=recent, provider_sid__isnull=False)
        .exclude(pk=message.pk).values_list("provider_sid", flat=True) if sid is not None
    }


def _sent_fields(message: SmsMessage, provider: str, now: datetime) -> dict[str, object]:
    extra: dict[str, object] = {"sent_at": now, "reconcile_since": None, "claim_token": "", "provider": provider}
    if message.body_redacted:
        extra["body"] = message.body_redacted
        extra["params"] = {}
    return extra


RECORD_CHUNK = 500  # rows per executemany and per SELECT of what moved


def _record_sent(sent: list[tuple[SmsMessage, SendResult]], *, provider: str, source: str) -> list[SmsMessage]:
    """Store each SID with sending -> sent, a few UPDATEs and one transaction for the batch;
    returns the messages handed over (with their fields updated in memory)."""
    if not sent:
        return []
    now = timezone.now()
    taken = set(SmsMessage.objects.filter(provider_sid__in=[r.sid for _, r in sent]).values_list("provider_sid", flat=True))
    # Secrets (login codes) have their body masked at the same time: those go one by one.
    quick = [(m, r) for m, r in sent if r.sid not in taken and not m.body_redacted]
    slow = [(m, r) for m, r in sent if r.sid in taken or m.body_redacted]
    handed: list[SmsMessage] = []
    try:
        with transaction.atomic():
            for start in range(0, len(quick), RECORD_CHUNK):
                moved = _record_chunk(quick[start:start + RECORD_CHUNK], provider=provider, source=source, now=now)
                handed.extend(moved)
                done = {m.pk for m in moved}
                slow.extend(pair for pair in quick[start:start + RECORD_CHUNK] if pair[0].pk not in done)
    except IntegrityError:  # a SID stored elsewhere meanwhile (never in practice): one by one
        handed, slow = [], list(sent)
    for message, answer in slow:
        record_sent_slowly(message, answer, provider=provider, source=source, now=now)
        handed.append(message)
    return handed


def _record_chunk(pairs: list[tuple[SmsMessage, SendResult]], *, provider: str, source: str,
                  now: datetime) -> list[SmsMessage]:
    """One conditional UPDATE per row whose claim still holds and that has no SID yet (the
    common case: a callback that got there first is rare), sent as one executemany — the hot
    path at hundreds of messages a second, where building an ORM query per row costs more than
    the database does. Returns the messages it moved."""
    table = connection.ops.quote_name(SmsMessage._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(now)
    sql = (f"UPDATE {table} SET status = %s, provider_sid = %s, provider_status = %s, status_changed_at = %s, "
           f"sent_at = %s, reconcile_since = NULL, claim_token = '', provider = %s "
           f"WHERE id = %s AND status = %s AND provider_sid IS NULL")
    rows = [(SmsStatus.SENT, r.sid, r.provider_status[:32], at, at, provider, m.pk, SmsStatus.SENDING) for m, r in pairs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    ids = [m.pk for m, _ in pairs]
    stored = dict(SmsMessage.objects.filter(pk__in=ids, status=SmsStatus.SENT, status_changed_at=now)
                  .values_list("pk", "provider_sid"))
    moved = [(m, r) for m, r in pairs if stored.get(m.pk) == r.sid]
    SmsStatusEvent.objects.bulk_create([
        SmsStatusEvent(message_id=m.pk, from_status=SmsStatus.SENDING, to_status=SmsStatus.SENT,
                       provider_status=r.provider_status, source=source, at=now) for m, r in moved])
    for m, r in moved:
        _mark(m, SmsStatus.SENT, r.sid, _sent_fields(m, provider, now))
    return [m for m, _ in moved]


def record_sent_slowly(message: SmsMessage, answer: SendResult, *, provider: str, source: str, now: datetime) -> None:
    extra = _sent_fields(message, provider, now)
    if not advance(message.pk, SmsStatus.SENT, source=source, sid=answer.sid, provider_status=answer.provider_status,
                   extra=extra):
        # A callback got there first (it carries our id and may have stored our SID): keep
        # the SID, the sent time and the masked body whatever the status.
        try:
            SmsMessage.objects.filter(Q(provider_sid__isnull=True) | Q(provider_sid=answer.sid), pk=message.pk).update(
                provider_sid=answer.sid, **extra)
        except IntegrityError:
            logger.error("SMS %s: provider SID already belongs to another message; not adopted", message.pk)
    _mark(message, SmsStatus.SENT, answer.sid, extra)


def _mark(message: SmsMessage, status: str, sid: str, extra: Mapping[str, object]) -> None:
    message.status, message.provider_sid = status, sid
    for name, value in extra.items():
        setattr(message, name, value)


def final_fields(message: SmsMessage) -> dict[str, object]:
    """Fields for a message that will not be sent again: a secret in its body (a login code)
    is masked now, whatever became of it."""
    extra: dict[str, object] = {"claim_token": ""}
    if message.body_redacted:
        extra["body"] = message.body_redacted
        extra["params"] = {}
    return extra


def _record_failure(message: SmsMessage, error: TransportError, *, provider: str,
                    failed: list[SmsMessage] | None = None) -> Outcome:
    transport = routing.transport_named(provider)
    if error.code in transport.unsubscribed_codes:
        opt_out(message.phone, source="provider", keyword=error.code)
    if error.code in transport.unreachable_codes:
        unreachable.note_unreachable(message.phone, error.code)
    if error.code in CONTENT_REVIEW_CODES:
        logger.error("SMS %s filtered by the carrier (%s): review the %s template", message.pk, error.code, message.template)
    if error.permanent or message.attempts >= settings.SMS_MAX_ATTEMPTS:
        code = error.code or SmsErrorCode.RETRIES_EXHAUSTED
        why = error.message if error.permanent else f"Gave up after {message.attempts} attempts: {error.message}"
        advance(message.pk, SmsStatus.FAILED, source="worker", error_code=code, error_message=why,
                extra={**final_fields(message), "provider": provider})
        message.status, message.error_code = SmsStatus.FAILED, code
        if failed is not None:
            failed.append(message)
        return Outcome("failed")
    delay = backoff_delay(message.attempts)
    if error.maybe_sent:
        # The provider may still be completing the request we gave up on (a read time-out):
        # look for it only once it must have settled, or the retry could text twice.
        delay = max(delay, settings.SMS_AMBIGUOUS_SETTLE_SECONDS)
    _release_for_retry(message, error, delay, provider=provider)
    return Outcome("retry", retry_in=delay)


def backoff_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then 50-100% of it."""
    ceiling = min(settings.SMS_RETRY_MAX_SECONDS, settings.SMS_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return float(ceiling * random.uniform(0.5, 1.0))  # the settings are untyped


def _release_for_retry(message: SmsMessage, error: TransportError, delay: float, *, provider: str) -> None:
    now = timezone.now()
    reconcile = message.reconcile_since or (message.claimed_at if error.maybe_sent else None)
    # The provider that may have it is the one to ask before sending again.
    holder = provider if error.maybe_sent else (message.provider if message.reconcile_since else "")
    with transaction.atomic():
        released = SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.SENDING, claim_token=message.claim_token).update(
            status=SmsStatus.QUEUED, next_attempt_at=now + timedelta(seconds=delay), claim_token="",
            error_code=error.code, error_message=error.message[:500], reconcile_since=reconcile, status_changed_at=now,
            provider=holder,
        )
        if released:
            SmsStatusEvent.objects.create(message_id=message.pk, from_status=SmsStatus.SENDING, to_status=SmsStatus.QUEUED,
                                          error_code=error.code, source="retry", at=now)


def release_unsent(messages: list[SmsMessage], *, delay: float = 0.0, source: str = "released",
                    errors: Mapping[int, TransportError] | None = None) -> None:
    """Give back claimed messages this worker will not send (its time is up, or no provider
    of the route can take them now): their attempt does not count."""
    now = timezone.now()
    due = now + timedelta(seconds=delay)
    with transaction.atomic():
        for message in messages:
            error = (errors or {}).get(message.pk)
            why = {"error_code": error.code, "error_message": error.message[:500]} if error is not None else {}
            released = SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.SENDING, claim_token=message.claim_token).update(
                status=SmsStatus.QUEUED, claim_token="", attempts=F("attempts") - 1, status_changed_at=now,
                next_attempt_at=due, **why)
            if released:
                SmsStatusEvent.objects.create(message_id=message.pk, from_status=SmsStatus.SENDING,
                                              to_status=SmsStatus.QUEUED, source=source, at=now,
                                              error_code=error.code if error is not None else "")
