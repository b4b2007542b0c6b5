"""The SMS outbox (principle 2): code that wants to text someone writes a row here, inside its
own transaction; a worker sends it after commit (notifications/delivery.py).

    queue_sms(template="offer.sms", context={...}, purpose="offer", idempotency_key=f"offer:{offer.pk}",
              to_user=volunteer, related=offer, expects_reply=True, reply_until=offer.expires_at)

The same idempotency key always returns the first row, so a retried caller never texts
twice. A number that opted out gets a REFUSED row (error_code "opted_out") that is never sent,
so callers can see why and fall back to another channel.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Required, TypedDict, TypeVar

import phonenumbers
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.urls import reverse
from django.utils import timezone

from core.enqueue import enqueue_on_commit

from .consent import Phone, is_opted_out, opted_out_phones
from .error_codes import SmsErrorCode
from .models import SmsMessage, SmsStatus
from .replies import KEYWORDS, NO_WORDS, YES_WORDS
from .templates import normalize_language, render, segment_count

if TYPE_CHECKING:
    # django-stubs reads this alias as settings.AUTH_USER_MODEL (community.User), which
    # notifications may not import: community sits above it.
    from django.contrib.auth.models import _User as User

_T = TypeVar("_T")

# The Celery tasks that send outbox rows (notifications/tasks.py), named so that this module
# need not import it.
SEND_SMS = "notifications.tasks.send_sms"
DRAIN_OUTBOX = "notifications.tasks.drain_outbox"

# Reply codes: no 0/O, 1/I/L or 2 (1 and 2 mean yes and no), first character a letter.
CODE_FIRST = "ABCDEFGHJKMNPRSTUVWXYZ"
CODE_REST = CODE_FIRST + "3456789"


def _reserved_words() -> set[str]:
    return {w.upper() for w in YES_WORDS | NO_WORDS | set(KEYWORDS)}


def new_reply_code(taken: set[str]) -> str:
    """A 2-character code when free, longer only when that phone has many open prompts."""
    reserved = _reserved_words()
    for length in (2, 3, 4):
        for _ in range(30):
            code = random.choice(CODE_FIRST) + "".join(random.choice(CODE_REST) for _ in range(length - 1))
            if code not in taken and code not in reserved:
                return code
    raise RuntimeError("no free reply code")  # pragma: no cover - 22*29^3 codes per phone


def normalize_phone(phone: Phone | None) -> str | None:
    """E.164 string, or None when it is not a valid number."""
    if phone is None or phone == "":
        return None
    try:
        parsed = phone if isinstance(phone, phonenumbers.PhoneNumber) else phonenumbers.parse(
            str(phone), settings.PHONENUMBER_DEFAULT_REGION
        )
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Purposes whose prompts keep taking answers until reply_until (a safety check: "1" now, "2"
# if things change); the reply router fills this as handlers register.
REANSWERABLE_PURPOSES: set[str] = set()
# A prompt in one of these has been handed to the provider (or may have been): the person can
# have it. One still queued is not theirs to answer yet.
HANDED_OVER = (SmsStatus.SENDING, SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.UNDELIVERED)


def open_prompts_q(now: datetime | None = None) -> Q:
    """Prompts still waiting for (or still taking) an answer: their reply codes are reserved."""
    now = now or timezone.now()
    waiting = Q(answered_at__isnull=True)
    if REANSWERABLE_PURPOSES:
        waiting |= Q(purpose__in=sorted(REANSWERABLE_PURPOSES))
    return (
        Q(expects_reply=True) & waiting
        & ~Q(status__in=[SmsStatus.REFUSED, SmsStatus.FAILED])
        & (Q(reply_until__isnull=True) | Q(reply_until__gt=now))
    )


def answerable_prompts_q(now: datetime | None = None) -> Q:
    """Open prompts the person can have received. A bare "yes" must never answer a prompt
    still in the queue: it would accept an offer they have not seen."""
    return open_prompts_q(now) & Q(status__in=HANDED_OVER)


def open_codes(phones: list[str]) -> dict[str, set[str]]:
    taken: dict[str, set[str]] = {}
    rows = SmsMessage.objects.filter(open_prompts_q(), phone__in=phones).values_list("phone", "reply_code")
    for phone, code in rows:
        taken.setdefault(phone, set()).add(code)
    return taken


def status_callback_url(message_id: int) -> str | None:
    """Where the provider reports delivery status; needs PUBLIC_BASE_URL to be reachable."""

    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{reverse('sms-status-callback', args=[message_id])}" if base else None


# Who waits least when the provider's pace makes messages queue: someone logging in, then
# someone who just texted us, then a volunteer with an offer on the clock; the rest (alerts,
# safety questions, call-ins) keep the order they were written in (vulnerable residents first).
PRIORITY = {"login_code": 0, "sms_reply": 1, "task_offer": 2}
DEFAULT_PRIORITY = 5


class SmsItem(TypedDict, total=False):
    """One message for queue_sms_bulk: queue_sms's keyword arguments."""

    template: Required[str]
    context: Mapping[str, object] | None
    purpose: Required[str]
    idempotency_key: Required[str]
    to_user: User | None
    phone: Phone | None
    related: Model | None
    language: str | None
    is_drill: bool
    expects_reply: bool
    reply_until: datetime | None
    redact: tuple[str, ...]


def _build(item: SmsItem, *, taken_codes: dict[str, set[str]], opted_out: set[str]) -> SmsMessage:
    """An unsaved SmsMessage for one queue_sms item (rendered, refused when it must be)."""
    user = item.get("to_user")
    raw_phone = item.get("phone") or (getattr(user, "phone", None) if user is not None else None)
    phone = normalize_phone(raw_phone)
    language = normalize_language(item.get("language") or getattr(user, "preferred_language", None))
    context = dict(item.get("context") or {})
    code = ""
    if item.get("expects_reply") and phone:
        code = new_reply_code(taken_codes.setdefault(phone, set()))
        taken_codes[phone].add(code)
        context["code"] = code
    is_drill = bool(item.get("is_drill"))
    body = render(item["template"], context, language=language, is_drill=is_drill)
    redact = item.get("redact") or ()
    masked = {k: ("*" * len(str(v)) if k in redact else v) for k, v in context.items()}
    row = SmsMessage(
        idempotency_key=item["idempotency_key"],
        phone=phone or "",
        user=user,
        purpose=item["purpose"],
        template=item["template"],
        body=body,
        body_redacted=render(item["template"], masked, language=language, is_drill=is_drill) if redact else "",
        language=language,
        is_drill=is_drill,
        segments=segment_count(body),
        expects_reply=bool(item.get("expects_reply")),
        reply_code=code,
        reply_until=item.get("reply_until"),
        priority=PRIORITY.get(item["purpose"], DEFAULT_PRIORITY),
    )
    related = item.get("related")
    if related is not None:
        row.related_type = ContentType.objects.get_for_model(related)
        row.related_id = str(related.pk)
    if not phone:
        _refuse(row, SmsErrorCode.INVALID_PHONE if raw_phone else SmsErrorCode.NO_PHONE)
    elif phone in opted_out:
        _refuse(row, SmsErrorCode.OPTED_OUT)
    if row.status == SmsStatus.REFUSED and row.body_redacted:
        row.body = row.body_redacted  # never sent: its secret need not be kept either
    return row


def _refuse(row: SmsMessage, code: SmsErrorCode) -> None:
    row.status = SmsStatus.REFUSED
    row.error_code = code
    row.error_message = {
        SmsErrorCode.OPTED_OUT: "The number opted out (STOP); nothing is sent to it until it texts START.",
        SmsErrorCode.INVALID_PHONE: "Not a valid phone number.",
        SmsErrorCode.NO_PHONE: "The recipient has no phone number.",
    }[code]


def queue_sms(
    *,
    template: str,
    context: Mapping[str, object] | None = None,
    purpose: str,
    idempotency_key: str,
    to_user: User | None = None,
    phone: str | None = None,
    related: Model | None = None,
    language: str | None = None,
    is_drill: bool = False,
    expects_reply: bool = False,
    reply_until: datetime | None = None,
    redact: tuple[str, ...] = (),
) -> SmsMessage:
    """Write one outbox row in the caller's transaction; it is sent after commit.

    `redact` names context values that are secrets (a login code): the stored body is masked
    once the provider has the message."""
    existing = SmsMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    item = SmsItem(template=template, context=context, purpose=purpose, idempotency_key=idempotency_key,
                   to_user=to_user, phone=phone, related=related, language=language, is_drill=is_drill,
                   expects_reply=expects_reply, reply_until=reply_until, redact=redact)
    target = normalize_phone(phone or (getattr(to_user, "phone", None) if to_user is not None else None))
    taken = open_codes([target]) if expects_reply and target else {}
    refused = {target} if target and is_opted_out(target) else set()
    row = _build(item, taken_codes=taken, opted_out=refused)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # A concurrent caller wrote the same key first: theirs is the message.
        return SmsMessage.objects.get(idempotency_key=idempotency_key)
    if row.status == SmsStatus.QUEUED:
        enqueue_on_commit(SEND_SMS, row.pk)
    return row


def queue_sms_bulk(items: list[SmsItem]) -> int:
    """queue_sms for many messages in a few queries: one INSERT per 500 rows, one enqueue.

    Each item takes queue_sms's keyword arguments. Returns how many rows were written
    (items whose key already existed are skipped)."""
    unique: dict[str, SmsItem] = {}
    for item in items:
        unique.setdefault(item["idempotency_key"], item)
    keys = list(unique)
    existing: set[str] = set()
    for chunk in _chunks(keys, 900):
        existing.update(SmsMessage.objects.filter(idempotency_key__in=chunk).values_list("idempotency_key", flat=True))
    fresh = [item for key, item in unique.items() if key not in existing]
    if not fresh:
        return 0
    phones = {normalize_phone(i.get("phone") or getattr(i.get("to_user"), "phone", None)) for i in fresh} - {None}
    refused = opted_out_phones(phones)
    prompt_phones = [p for p in phones if p]
    taken = open_codes(prompt_phones) if any(i.get("expects_reply") for i in fresh) else {}
    rows = [_build(item, taken_codes=taken, opted_out=refused) for item in fresh]
    SmsMessage.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    written = 0
    for chunk in _chunks([r.idempotency_key for r in rows], 900):
        written += SmsMessage.objects.filter(idempotency_key__in=chunk).count()
    if any(r.status == SmsStatus.QUEUED for r in rows):
        enqueue_on_commit(DRAIN_OUTBOX)
    return written


def _chunks(values: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
