"""The voice-call outbox: a question spoken by phone to people who cannot read or answer an SMS.

    queue_call(purpose="safety_check", script="emergency.safety.voice", params={...},
               phone="+8613...", idempotency_key=f"safety-call:{check}:{resident}", related=row)
    drain_calls(route)            # Celery (life-safety queue): place due calls at VOICE_RATES[route]
    record_events(events)         # from the voice webhooks (notifications/voice_webhooks.py)

Like SMS: a row written in the caller's transaction, placed after commit, claimed once
(queued -> calling with a claim token), paced per provider route (domestic for +86 numbers,
international otherwise: notifications.voice.voice_route). A call the provider may have
placed after a time-out is not placed again blindly: the provider is asked first
(find_placed). Busy, no-answer and failed calls are tried again after VOICE_RETRY_SECONDS up
to VOICE_MAX_ATTEMPTS. A key 1 or 2 is an answer, handed to the app that queued the call
(register_call_handler(purpose, answered=..., unanswered=...)), exactly once per call; a call
that ended with no key, or any other key, is UNANSWERED — never an answer. Queued calls about
something no longer true are dropped by supersede_messages (notifications/outbox.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone

from core.enqueue import enqueue_on_commit

from .models import CallStatus, VoiceCall
from .templates import normalize_language
from .voice import OutgoingCall, VoiceError, get_voice_transport, voice_route
from .voice.base import ANSWERED, BUSY, CANCELED, COMPLETED, FAILED, NO_ANSWER, CallEvent

logger = logging.getLogger(__name__)

DRAIN_CALLS = "notifications.tasks.drain_calls"
RETRY_STATUSES = frozenset({BUSY, NO_ANSWER, FAILED})
ERASED = "erased"  # the number was erased (privacy.erasure): never dialled (again)

AnsweredHandler = Callable[[VoiceCall, str], None]  # (call, "safe" | "help")
UnansweredHandler = Callable[[VoiceCall], None]


@dataclass(frozen=True)
class CallHandlers:
    answered: AnsweredHandler | None = None
    unanswered: UnansweredHandler | None = None


_handlers: dict[str, CallHandlers] = {}


def register_call_handler(purpose: str, *, answered: AnsweredHandler | None = None,
                          unanswered: UnansweredHandler | None = None) -> None:
    _handlers[purpose] = CallHandlers(answered, unanswered)


def _handle(name: str, call: VoiceCall, *args: Any) -> None:
    handler = getattr(_handlers.get(call.purpose), name, None)
    if handler is None:
        return
    try:
        with transaction.atomic():
            handler(call, *args)
    except Exception:
        logger.exception("voice %s handler for %r failed on call %s", name, call.purpose, call.pk)


# --- writing ----------------------------------------------------------------------------------
def queue_call(*, purpose: str, script: str, params: dict[str, str], phone: str, idempotency_key: str,
               language: str | None = None, related: Model | None = None, is_drill: bool = False,
               is_vulnerable: bool = False) -> VoiceCall:
    """Write one call in the caller's transaction; it is placed after commit. The same key
    always returns the first row."""
    existing = VoiceCall.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    row = VoiceCall(idempotency_key=idempotency_key, phone=phone, route=voice_route(phone), purpose=purpose,
                    script=script, params={k: str(v) for k, v in params.items()},
                    language=normalize_language(language), is_drill=is_drill, is_vulnerable=is_vulnerable)
    # Due by the clock the caller runs on, as the SMS and push outboxes do (a field default
    # would bind the real one).
    row.created_at = row.next_attempt_at = row.status_changed_at = timezone.now()
    if related is not None:
        row.related_type = ContentType.objects.get_for_model(related)
        row.related_id = str(related.pk)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return VoiceCall.objects.get(idempotency_key=idempotency_key)
    enqueue_on_commit(DRAIN_CALLS, row.route)
    return row


def supersede_calls(filter_q: Q, *, reason: str, now: dt.datetime) -> int:
    """Queued calls matching `filter_q` (over related_*) are dropped: never placed."""
    return VoiceCall.objects.filter(filter_q, status=CallStatus.QUEUED).update(
        status=CallStatus.SUPERSEDED, error_code="superseded", error_message=reason[:500], status_changed_at=now)


# --- placing ----------------------------------------------------------------------------------
@dataclass
class CallDrainReport:
    placed: int = 0
    failed: int = 0
    retry_in: float | None = None
    exhausted_time: bool = False


def _claim_next(route: str, now: dt.datetime) -> VoiceCall | None:
    for _ in range(5):
        pk = (VoiceCall.objects.filter(route=route, status=CallStatus.QUEUED, next_attempt_at__lte=now + dt.timedelta(seconds=1))
              .order_by("-is_vulnerable", "pk").values_list("pk", flat=True).first())
        if pk is None:
            return None
        token = uuid.uuid4().hex
        if VoiceCall.objects.filter(pk=pk, status=CallStatus.QUEUED).update(
                status=CallStatus.CALLING, claim_token=token, claimed_at=now, status_changed_at=now,
                attempts=F("attempts") + 1):
            return VoiceCall.objects.get(pk=pk)
    return None


def drain_calls(route: str, *, max_seconds: float = 20.0) -> CallDrainReport:
    """Place the route's due calls, vulnerable first, at VOICE_RATES[route] per second."""
    report = CallDrainReport()
    rate = float((settings.VOICE_RATES or {}).get(route) or 0)
    started = time.monotonic()
    while True:
        now = timezone.now()
        call = _claim_next(route, now)
        if call is None:
            first = (VoiceCall.objects.filter(route=route, status=CallStatus.QUEUED)
                     .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())
            report.retry_in = None if first is None else max(0.0, (first - now).total_seconds())
            break
        place(call, report)
        if rate:
            wait = (report.placed + report.failed) / rate - (time.monotonic() - started)
            if wait > 0:
                time.sleep(wait)
        if time.monotonic() - started >= max_seconds:
            report.exhausted_time = True
            break
    return report


def place(call: VoiceCall, report: CallDrainReport | None = None) -> None:
    """Place one claimed call and record what happened."""
    report = report or CallDrainReport()
    if not call.phone:  # the number was erased (privacy.erasure) after the call was claimed
        _mark(call, status=CallStatus.FAILED, error_code=ERASED, error_message="")
        report.failed += 1
        call.refresh_from_db()
        _handle("unanswered", call)
        return
    transport = get_voice_transport(call.route)
    now = timezone.now()
    outgoing = OutgoingCall(call_id=call.pk, to=call.phone, language=call.language, script=call.script,
                            params=dict(call.params), gather=True, is_drill=call.is_drill)
    try:
        if call.error_code == "maybe_placed" and call.placed_at is not None:
            known = set(filter(None, [call.provider_sid]))
            found = transport.find_placed(to=call.phone, since=call.placed_at, exclude_sids=known)
            if found is not None:
                _mark(call, status=CallStatus.CALLING, provider_sid=found.sid, error_code="", error_message="")
                report.placed += 1
                return
        result = transport.place_call(outgoing)
    except VoiceError as exc:
        if exc.maybe_placed:
            # It may ring anyway: the callbacks (or the sweep) settle it; never dial twice blindly.
            _mark(call, status=CallStatus.CALLING, placed_at=now, error_code="maybe_placed", error_message=exc.message[:500])
            report.placed += 1
            return
        if not exc.permanent and call.attempts < settings.VOICE_MAX_ATTEMPTS:
            _mark(call, status=CallStatus.QUEUED, next_attempt_at=now + dt.timedelta(seconds=settings.VOICE_RETRY_SECONDS),
                  error_code=exc.code[:64], error_message=exc.message[:500])
            return
        _mark(call, status=CallStatus.FAILED, error_code=exc.code[:64] or "failed", error_message=exc.message[:500])
        report.failed += 1
        call.refresh_from_db()
        _handle("unanswered", call)
        return
    _mark(call, status=CallStatus.CALLING, provider_sid=result.sid, placed_at=now, error_code="", error_message="")
    report.placed += 1


def _mark(call: VoiceCall, **values: Any) -> bool:
    values["status_changed_at"] = timezone.now()
    return bool(VoiceCall.objects.filter(pk=call.pk, claim_token=call.claim_token).update(**values))


# --- what came back ---------------------------------------------------------------------------
def record_events(events: Iterable[CallEvent]) -> int:
    """Record the events of one webhook request; returns how many changed a call. Duplicated
    and late events change nothing (an answered call stays answered)."""
    changed = 0
    for event in events:
        changed += _record(event)
    return changed


def _find(event: CallEvent) -> VoiceCall | None:
    if event.call_id is not None:
        call = VoiceCall.objects.filter(pk=event.call_id).first()
        if call is not None and (not call.provider_sid or call.provider_sid == event.sid or not event.sid):
            return call
    if event.sid:
        return VoiceCall.objects.filter(provider_sid=event.sid).first()
    return None


def _record(event: CallEvent) -> int:
    with transaction.atomic():
        call = _find(event)
        if call is None:
            logger.info("voice event for an unknown call (sid %s)", event.sid)
            return 0
        call = VoiceCall.objects.select_for_update().get(pk=call.pk)
        if call.status in (CallStatus.ANSWERED, CallStatus.SUPERSEDED):
            return 0
        if not call.provider_sid and event.sid:
            call.provider_sid = event.sid
        call.provider_status = event.status
        now = timezone.now()
        answer = event.answer
        if answer is not None and call.status in (CallStatus.CALLING, CallStatus.UNANSWERED, CallStatus.QUEUED):
            VoiceCall.objects.filter(pk=call.pk).update(status=CallStatus.ANSWERED, digits=event.digits,
                                                        answered_at=now, provider_sid=call.provider_sid,
                                                        provider_status=event.status, status_changed_at=now)
            call.status, call.digits, call.answered_at = CallStatus.ANSWERED, event.digits, now
            _handle("answered", call, answer)  # in its own savepoint: a failure there keeps the key recorded
            return 1
        if event.digits:
            VoiceCall.objects.filter(pk=call.pk).update(digits=event.digits[:8], provider_sid=call.provider_sid)
        if not event.is_final or call.status != CallStatus.CALLING:
            VoiceCall.objects.filter(pk=call.pk).update(provider_sid=call.provider_sid, provider_status=event.status)
            return 0
        # A number erased while the call rang (privacy.erasure) is not dialled again.
        if event.status in RETRY_STATUSES and call.attempts < settings.VOICE_MAX_ATTEMPTS and call.phone:
            VoiceCall.objects.filter(pk=call.pk).update(
                status=CallStatus.QUEUED, provider_sid="", provider_status=event.status, error_code=event.status,
                next_attempt_at=now + dt.timedelta(seconds=settings.VOICE_RETRY_SECONDS), status_changed_at=now)
            enqueue_on_commit(DRAIN_CALLS, call.route)
            return 1
        final = CallStatus.UNANSWERED if event.status in (COMPLETED, ANSWERED, BUSY, NO_ANSWER, CANCELED) else CallStatus.FAILED
        VoiceCall.objects.filter(pk=call.pk).update(status=final, provider_sid=call.provider_sid,
                                                    provider_status=event.status,
                                                    error_code=event.error_code[:64] or event.status,
                                                    status_changed_at=now)
        call.status = final
        _handle("unanswered", call)
        return 1


def recover_stuck(now: dt.datetime | None = None) -> int:
    """Calls "calling" past VOICE_CALL_TIMEOUT_SECONDS never got their final callback: they
    count as unanswered (the ladder moves on)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.VOICE_CALL_TIMEOUT_SECONDS)
    stuck = list(VoiceCall.objects.filter(status=CallStatus.CALLING, status_changed_at__lt=cutoff))
    for call in stuck:
        if VoiceCall.objects.filter(pk=call.pk, status=CallStatus.CALLING).update(
                status=CallStatus.UNANSWERED, error_code="no_callback", status_changed_at=now):
            call.status = CallStatus.UNANSWERED
            _handle("unanswered", call)
    return len(stuck)


def overdue_routes(older_than_seconds: int = 30) -> list[str]:
    """Routes with due calls nobody placed for a while (their drain task was lost)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return sorted(set(VoiceCall.objects.filter(status=CallStatus.QUEUED, next_attempt_at__lt=cutoff)
                      .values_list("route", flat=True).distinct()))
