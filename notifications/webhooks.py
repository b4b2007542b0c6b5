"""Twilio webhooks: inbound SMS and delivery-status callbacks.

Both validate X-Twilio-Signature with the library's RequestValidator (HMAC-SHA1, or HMAC-SHA256
when X-Twilio-Webhooks-Signature-Settings says so) over the public URL
(PUBLIC_BASE_URL + path when set, for deployments behind a proxy; else the request's own
absolute URI) and answer 403 before writing anything when it is missing or wrong. The
inbound view only stores the message (once per MessageSid) and answers empty TwiML at once;
routing happens in a task after commit.

Every field is read through _field: a NUL character (which PostgreSQL refuses) is dropped
rather than refused, because Twilio does not retry a webhook that failed — the message
would be lost.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    QueryDict,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator, get_signature_algorithm

from core.enqueue import enqueue_on_commit
from core.text import storable, strip_unprintable

from .models import InboundSms
from .outbox import normalize_phone
from .receipts import record_provider_status
from .tasks import process_inbound

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_INBOUND_BODY = 1600  # Twilio's own limit for a concatenated SMS


def public_url(request: HttpRequest) -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{request.get_full_path()}" if base else request.build_absolute_uri()


def twilio_signature_is_valid(request: HttpRequest, form: QueryDict) -> bool:
    """X-Twilio-Signature checked by the twilio library's RequestValidator: HMAC-SHA1 with the
    Auth Token (the default), or the algorithm X-Twilio-Webhooks-Signature-Settings names
    (HMAC_SHA256) with the webhook SharedKey secret (TWILIO_WEBHOOK_SHARED_KEY) or the Auth
    Token. Either token of a rotation pair is accepted."""
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    tokens = [t for t in (settings.TWILIO_AUTH_TOKEN, settings.TWILIO_AUTH_TOKEN_SECONDARY) if t]
    signature_settings = request.META.get("HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS", "")
    algorithm = get_signature_algorithm(signature_settings)
    if signature_settings:
        shared = [k for k in (settings.TWILIO_WEBHOOK_SHARED_KEY, settings.TWILIO_WEBHOOK_SHARED_KEY_SECONDARY) if k]
        tokens = shared + tokens
    if not signature or not tokens:
        return False
    try:
        url = public_url(request)
        return any(RequestValidator(token).validate(url, form, signature, algorithm=algorithm) for token in tokens)
    except (UnicodeError, ValueError):  # a lone surrogate or an odd byte in the URL or form
        return False


def signature_is_valid(request: HttpRequest) -> bool:
    return twilio_signature_is_valid(request, request.POST)


def _field(request: HttpRequest, *names: str, limit: int) -> str:
    """The first of `names` the form carries, storable (core.text), stripped and cut."""
    value = next((request.POST.get(name) or "" for name in names if request.POST.get(name)), "")
    return storable(value).strip()[:limit]


def _too_big(request: HttpRequest) -> bool:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    limit: int = settings.SMS_WEBHOOK_MAX_BYTES
    return declared > limit or len(request.body) > limit


def _guard(request: HttpRequest) -> HttpResponse | None:
    if _too_big(request):
        return HttpResponse("Request too large.", status=413)
    if not signature_is_valid(request):
        logger.warning("Twilio webhook with a missing or invalid signature refused")
        return HttpResponseForbidden("Invalid signature.")
    return None


@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    refused = _guard(request)
    if refused is not None:
        return refused
    sid = _field(request, "MessageSid", "SmsSid", limit=65)
    sender = _field(request, "From", limit=64)
    if not sid or len(sid) > 64 or not sender:
        return HttpResponseBadRequest("MessageSid and From are required.")
    phone = normalize_phone(sender) or sender[:20]
    # What people read is free text: invisible characters out, as everywhere (core.text).
    body = strip_unprintable(_field(request, "Body", limit=MAX_INBOUND_BODY))
    with transaction.atomic():
        inbound, created = InboundSms.objects.get_or_create(
            message_sid=sid,
            defaults={"phone": phone, "to_phone": _field(request, "To", limit=20), "body": body},
        )
        if created:
            enqueue_on_commit(process_inbound, inbound.pk)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest, message_id: int | None = None) -> HttpResponse:
    refused = _guard(request)
    if refused is not None:
        return refused
    sid = _field(request, "MessageSid", "SmsSid", limit=65)
    status = _field(request, "MessageStatus", "SmsStatus", limit=64)
    if not sid or not status or len(sid) > 64:
        return HttpResponseBadRequest("MessageSid and MessageStatus are required.")
    record_provider_status(sid=sid, provider_status=status, error_code=_field(request, "ErrorCode", limit=32),
                           message_id=message_id)
    return HttpResponse(status=204)
