"""The SMS outbox (principle 2): code that wants to text someone writes a row here, inside its
own transaction; a worker sends it after commit (notifications/delivery.py).

    queue_sms(template="offer.sms", context={...}, purpose="offer", idempotency_key=f"offer:{offer.pk}",
              to_user=volunteer, related=offer, expects_reply=True, reply_until=offer.expires_at)

The same idempotency key always returns the first row, so a retried caller never texts
twice. A number that opted out gets a REFUSED row (error_code "opted_out") that is never sent,
so callers can see why and fall back to another channel; so does a number carriers keep
reporting unreachable (error_code "unreachable", notifications/unreachable.py).

Each row has a lane (notifications/lanes.py: lane_for(purpose, severity=..., priority=...),
or the caller's `lane=`) and `is_vulnerable`: workers take the most urgent lane first, the
vulnerable first within it, then the oldest. A message whose content stops being true before
it reaches a provider is dropped with supersede_messages(related, reason=...).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Required, TypedDict, TypeVar

import phonenumbers
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, F, Model, Q, QuerySet, When
from django.db.models.functions import Cast
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from core.bulk import insert_rows
from core.enqueue import enqueue_on_commit

from .consent import Phone, is_opted_out, opted_out_phones
from .error_codes import SmsErrorCode
from .lanes import Lane, is_life_safety, lane_for
from .models import SmsMessage, SmsStatus, SmsStatusEvent
from .push_outbox import supersede_pushes
from .replies import KEYWORDS, NO_WORDS, YES_WORDS
from .routing import route_for
from .templates import field_names, normalize_language, render, segment_count
from .transports.provider_templates import template_variables
from .unreachable import is_unreachable, unreachable_phones
from .voice_outbox import supersede_calls

if TYPE_CHECKING:
    # django-stubs reads this alias as settings.AUTH_USER_MODEL (community.User), which
    # notifications may not import: community sits above it.
    from django.contrib.auth.models import _User as User

_T = TypeVar("_T")

# The Celery tasks that send outbox rows (notifications/tasks.py), named so that this module
# need not import it. The life-safety ones run on their own queue (CELERY_TASK_ROUTES), so a
# bulk job or a long import never holds up a life-safety message.
SEND_SMS = "notifications.tasks.send_sms"
DRAIN_OUTBOX = "notifications.tasks.drain_outbox"
SEND_LIFE_SAFETY_SMS = "notifications.tasks.send_life_safety_sms"
DRAIN_LIFE_SAFETY = "notifications.tasks.drain_life_safety"

# Sent even to a number that opted out: the confirmation that it did (domestic providers do
# not confirm an opt-out themselves, and the rules ask for one).
CONSENT_EXEMPT_PURPOSES = frozenset({"sms_opt_out_confirmation"})
# Sent even to a number marked unreachable: someone is waiting for it right now.
UNREACHABLE_EXEMPT_PURPOSES = frozenset({"login_code", "sms_opt_out_confirmation"})

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
    """E.164 string, or None when it is not a valid number. Remembered per number: a fan-out
    asks about the same numbers several times (opt-outs, routes, reply codes, the row), and
    parsing and validating one costs about 0.2 ms."""
    if phone is None or phone == "":
        return None
    if isinstance(phone, phonenumbers.PhoneNumber):
        return _number_e164(phone.country_code, phone.national_number, phone.italian_leading_zero,
                            phone.number_of_leading_zeros, phone.extension)
    return _text_e164(str(phone), settings.PHONENUMBER_DEFAULT_REGION)


@lru_cache(maxsize=200_000)
def _text_e164(text: str, region: str) -> str | None:
    try:
        return _valid_e164(phonenumbers.parse(text, region))
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=200_000)
def _number_e164(country_code: int | None, national_number: int | None, italian_leading_zero: bool | None,
                 leading_zeros: int | None, extension: str | None) -> str | None:
    return _valid_e164(phonenumbers.PhoneNumber(country_code=country_code, national_number=national_number,
                                                italian_leading_zero=italian_leading_zero,
                                                number_of_leading_zeros=leading_zeros, extension=extension))


def _valid_e164(parsed: phonenumbers.PhoneNumber) -> str | None:
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
        & ~Q(status__in=[SmsStatus.REFUSED, SmsStatus.FAILED, SmsStatus.SUPERSEDED])
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
    lane: Lane | int | None  # default: lane_for(purpose)
    is_vulnerable: bool  # the recipient is a vulnerable resident: first in its lane


def _build(item: SmsItem, *, taken_codes: dict[str, set[str]], opted_out: set[str],
           unreachable: set[str] | None = None) -> SmsMessage:
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
    elif item.get("expects_reply"):
        context.setdefault("code", "")  # refused below for want of a number: nothing to answer
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
        lane=int(lane if (lane := item.get("lane")) is not None else lane_for(item["purpose"])),
        is_vulnerable=bool(item.get("is_vulnerable")),
        params=_params(item["template"], context),
        route=route_for(phone) if phone else "*",
        # Due now by the clock the caller runs on (a field default would bind the real one).
        next_attempt_at=timezone.now(),
    )
    related = item.get("related")
    if related is not None:
        row.related_type = ContentType.objects.get_for_model(related)
        row.related_id = str(related.pk)
    purpose = item["purpose"]
    if not phone:
        _refuse(row, SmsErrorCode.INVALID_PHONE if raw_phone else SmsErrorCode.NO_PHONE)
    elif phone in opted_out and purpose not in CONSENT_EXEMPT_PURPOSES:
        _refuse(row, SmsErrorCode.OPTED_OUT)
    elif unreachable and phone in unreachable and purpose not in UNREACHABLE_EXEMPT_PURPOSES:
        _refuse(row, SmsErrorCode.UNREACHABLE)
    if row.status == SmsStatus.REFUSED and row.body_redacted:
        row.body = row.body_redacted  # never sent: its secret need not be kept either
        row.params = {}
    return row


def _params(template: str, context: Mapping[str, object]) -> dict[str, str]:
    """The template's own variables as text: what a template-only provider (Aliyun,
    Tencent) fills its approved template with."""
    return {name: str(context[name]) for name in _param_names(template) if context.get(name) is not None}


@lru_cache(maxsize=256)
def _param_names(template: str) -> tuple[str, ...]:
    return tuple(sorted(field_names(template) | template_variables(template)))


@receiver(setting_changed)
def _forget_param_names(setting: str, **kwargs: object) -> None:
    if setting == "SMS_PROVIDER_TEMPLATES":
        _param_names.cache_clear()


def _refuse(row: SmsMessage, code: SmsErrorCode) -> None:
    row.status = SmsStatus.REFUSED
    row.error_code = code
    row.error_message = {
        SmsErrorCode.OPTED_OUT: "The number opted out (STOP); nothing is sent to it until it texts START.",
        SmsErrorCode.INVALID_PHONE: "Not a valid phone number.",
        SmsErrorCode.NO_PHONE: "The recipient has no phone number.",
        SmsErrorCode.UNREACHABLE: "Carriers keep reporting this number unreachable; it is not texted for now.",
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
    lane: Lane | int | None = None,
    is_vulnerable: bool = False,
) -> SmsMessage:
    """Write one outbox row in the caller's transaction; it is sent after commit.

    `redact` names context values that are secrets (a login code): the stored body is masked
    once the provider has the message. `lane` defaults to lane_for(purpose)."""
    existing = SmsMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    item = SmsItem(template=template, context=context, purpose=purpose, idempotency_key=idempotency_key,
                   to_user=to_user, phone=phone, related=related, language=language, is_drill=is_drill,
                   expects_reply=expects_reply, reply_until=reply_until, redact=redact, lane=lane,
                   is_vulnerable=is_vulnerable)
    target = normalize_phone(phone or (getattr(to_user, "phone", None) if to_user is not None else None))
    taken = open_codes([target]) if expects_reply and target else {}
    refused = {target} if target and is_opted_out(target) else set()
    unreachable = {target} if target and is_unreachable(target) else set()
    row = _build(item, taken_codes=taken, opted_out=refused, unreachable=unreachable)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # A concurrent caller wrote the same key first: theirs is the message.
        return SmsMessage.objects.get(idempotency_key=idempotency_key)
    if row.status == SmsStatus.QUEUED:
        enqueue_on_commit(SEND_LIFE_SAFETY_SMS if is_life_safety(row.lane) else SEND_SMS, row.pk)
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
    unreachable = unreachable_phones(phones)
    prompt_phones = [p for p in phones if p]
    taken = open_codes(prompt_phones) if any(i.get("expects_reply") for i in fresh) else {}
    rows = [_build(item, taken_codes=taken, opted_out=refused, unreachable=unreachable) for item in fresh]
    insert_rows(SmsMessage, rows, ignore_conflicts=True)
    written = 0
    for chunk in _chunks([r.idempotency_key for r in rows], 900):
        written += SmsMessage.objects.filter(idempotency_key__in=chunk).count()
    start_draining([r for r in rows if r.status == SmsStatus.QUEUED])
    return written


def start_draining(rows: Iterable[SmsMessage]) -> None:
    """After commit, one drainer per route the rows take; a life-safety one on its own queue
    when any of them is life-safety."""
    routes: dict[str, bool] = {}
    for row in rows:
        routes[row.route] = routes.get(row.route, False) or is_life_safety(row.lane)
    for route, life_safety in sorted(routes.items()):
        if life_safety:
            enqueue_on_commit(DRAIN_LIFE_SAFETY, route)
        enqueue_on_commit(DRAIN_OUTBOX, route)


# --- superseding ----------------------------------------------------------------------------
SUPERSEDED_CODE = "superseded"


def supersede_messages(related: Model | Iterable[Model], *, reason: str, sms: bool = True, pushes: bool = True,
                       calls: bool = True) -> int:
    """Drop every message about `related` (one object, several, or a QuerySet) that no
    provider has been handed yet: status queued -> superseded, terminal, with a status event
    carrying `reason`. It is never sent and never answerable as a prompt. Call it where what a
    message says stops being true (an alert updated or cancelled, a question answered or
    closed, an offer filled, expired or withdrawn, a drill or emergency wound down).

    Messages already claimed by a worker (sending) or that a provider may have taken after a
    time-out (waiting to be reconciled) go their way: they may have reached the person.
    Queued device pushes and voice calls about the same objects are dropped too; a caller
    that knows there are none of a kind says so (sms/pushes/calls=False) and saves the UPDATE.
    Returns how many SMS were superseded. Runs in the caller's transaction."""
    now = timezone.now()
    token = uuid.uuid4().hex[:32]
    superseded = 0
    for filter_q in _related_filters(related):
        with transaction.atomic(savepoint=False):  # the caller's transaction: no savepoint round trips
            if sms:
                superseded += _supersede(filter_q, reason=reason, token=token, now=now)
            # Pushes and calls about the same objects go with them (not counted here: SMS).
            if pushes:
                supersede_pushes(filter_q, reason=reason, now=now)
            if calls:
                supersede_calls(filter_q, reason=reason, now=now)
    return superseded


def supersede_sms(filter_q: Q, *, reason: str) -> int:
    """Queued SMS matching `filter_q` (any filter over SmsMessage, e.g. a person's numbers)
    are dropped as supersede_messages drops them; returns how many. Caller's transaction."""
    return _supersede(filter_q, reason=reason, token=uuid.uuid4().hex[:32], now=timezone.now())


def _related_filters(related: Model | Iterable[Model]) -> Iterator[Q]:
    """Q objects over SmsMessage.related_* for `related`, grouped by model (chunks of 900)."""
    if isinstance(related, QuerySet):
        ids = related.annotate(_related_pk=Cast("pk", output_field=CharField())).values("_related_pk")
        yield Q(related_type=ContentType.objects.get_for_model(related.model), related_id__in=ids)
        return
    objects = [related] if isinstance(related, Model) else list(related)
    by_type: dict[int, list[str]] = {}
    for obj in objects:
        if obj.pk is not None:
            by_type.setdefault(ContentType.objects.get_for_model(obj).pk, []).append(str(obj.pk))
    for type_id, ids in by_type.items():
        for chunk in _chunks(sorted(set(ids)), 900):
            yield Q(related_type_id=type_id, related_id__in=chunk)


def _supersede(filter_q: Q, *, reason: str, token: str, now: datetime) -> int:
    # The token marks the rows this call moved (a worker may claim others meanwhile).
    moved = SmsMessage.objects.filter(filter_q, status=SmsStatus.QUEUED, reconcile_since__isnull=True).update(
        status=SmsStatus.SUPERSEDED, claim_token=token, error_code=SUPERSEDED_CODE, error_message=reason[:500],
        status_changed_at=now, body=Case(When(~Q(body_redacted=""), then=F("body_redacted")), default=F("body")),
    )
    if not moved:
        return 0
    ids = list(SmsMessage.objects.filter(claim_token=token, status=SmsStatus.SUPERSEDED).values_list("pk", flat=True))
    SmsStatusEvent.objects.bulk_create(
        [SmsStatusEvent(message_id=pk, from_status=SmsStatus.QUEUED, to_status=SmsStatus.SUPERSEDED,
                        source="superseded", note=reason[:200], at=now) for pk in ids], batch_size=500)
    for chunk in _chunks(ids, 900):
        SmsMessage.objects.filter(pk__in=chunk, claim_token=token).update(claim_token="")
    return moved


def _chunks(values: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
