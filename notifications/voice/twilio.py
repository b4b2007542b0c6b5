"""Twilio Programmable Voice through the official `twilio` library.

The call carries its TwiML inline (no fetch from us when the resident picks up): the question,
inside <Gather numDigits="1">, spoken `repeat` times, then a goodbye. A key press makes Twilio
POST the gather action (GATHER_PATH), whose answer is the thank-you TwiML (gather_reply);
progress (initiated, ringing, answered, completed, busy, no-answer, failed, canceled) comes to
STATUS_PATH. Both are signed: parse_event() checks X-Twilio-Signature over PUBLIC_BASE_URL +
path + query, as the SMS webhooks do. No answering-machine detection: it delays the prompt by
seconds of silence and can hang up on an elderly "喂？"; a voicemail that takes the call just
yields a completed call with no key, which is not an answer.

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN(_SECONDARY), TWILIO_VOICE_FROM_NUMBER,
PUBLIC_BASE_URL, TWILIO_VOICE_RING_SECONDS, VOICE_GATHER_SECONDS, VOICE_HTTP_TIMEOUT,
TWILIO_VOICE_{ZH,EN}_{LANGUAGE,VOICE}; TWILIO_API_BASE_URL points the library at a fake.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, QueryDict
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from notifications.templates import TemplateError, normalize_language
from notifications.transports.twilio import TOO_MANY_REQUESTS, LinliTwilioHttpClient
from notifications.webhooks import twilio_signature_is_valid

from . import texts
from .base import (
    ANSWERED,
    CallbackError,
    CallEvent,
    CallResult,
    OutgoingCall,
    VoiceError,
    VoiceTransport,
    check_body_size,
    check_call,
    clean_field,
)

logger = logging.getLogger(__name__)

STATUS_PATH = "/voice/twilio/status/{call_id}/"
GATHER_PATH = "/voice/twilio/gather/{call_id}/"
_PATH = re.compile(r"/voice/twilio/(?P<kind>status|gather)/(?P<call_id>\d{1,18})/$")

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
TWIML_MAX_CHARS = 4000  # Twilio refuses a longer inline `Twiml` parameter
MAX_GATHER_ATTEMPTS = 2  # a wrong key is asked again once, then the call says goodbye

# Twilio's CallStatus -> ours.
STATUS_MAP = {
    "queued": "ringing", "initiated": "ringing", "ringing": "ringing",
    "in-progress": "answered", "answered": "answered",
    "completed": "completed", "busy": "busy", "no-answer": "no-answer", "failed": "failed", "canceled": "canceled",
}

# Error codes that placing the call again cannot fix.
PERMANENT_CODES = {
    13223,  # Dial: invalid phone number format
    13224,  # Dial: number invalid or not supported
    13227,  # Dial: no international authorization (geo permissions)
    21210,  # 'From' number not verified / not a Twilio number: an operator must fix the setting
    21211,  # invalid 'To' number
    21212,  # invalid 'From' number
    21214,  # 'To' number cannot be reached
    21215,  # geo permissions do not allow calling this region
    21216,  # number blocked (high-risk / premium)
    21217,  # 'To' number does not appear to be valid
    21219,  # 'To' not verified (trial account)
}

_SID = re.compile(r"CA[0-9a-fA-F]{32}")
_DIGITS = re.compile(r"[0-9*#]{1,16}")
_STATUS = re.compile(r"[a-z-]{1,20}")
_NUMBER = re.compile(r"\d{1,9}")
_ERROR_CODE = re.compile(r"\d{1,8}")


def classify(exc: Exception) -> VoiceError:
    """Map what the library raised to a VoiceError (permanent, transient, maybe placed)."""
    if isinstance(exc, TwilioRestException):
        code = int(exc.code) if str(exc.code or "").isdigit() else 0
        message = f"Twilio {exc.status} {code}: {exc.msg}"[:500]
        if exc.status == 429 or code == TOO_MANY_REQUESTS:
            return VoiceError(message, str(code or 429))
        if exc.status >= 500:
            return VoiceError(message, str(code or exc.status), maybe_placed=True)
        if code in PERMANENT_CODES:
            return VoiceError(message, str(code), permanent=True)
        if exc.status in (401, 403):
            return VoiceError(message, str(code or exc.status))  # credentials: retry until fixed
        return VoiceError(message, str(code or exc.status), permanent=True)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return VoiceError("Twilio connect timeout", "timeout")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return VoiceError("Twilio read timeout", "timeout", maybe_placed=True)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return VoiceError(f"Twilio connection error: {type(exc).__name__}", "network", maybe_placed=True)
    return VoiceError(f"Twilio error: {type(exc).__name__}", "error", maybe_placed=True)


# --- TwiML ---------------------------------------------------------------------------------------
def say_voice(language: str) -> tuple[str, str]:
    """(language attribute, voice) for <Say>. Twilio files its Mandarin voices (Polly.Zhiyu,
    Polly.Zhiyu-Neural, Google.cmn-CN-*) under the locale cmn-CN; zh-CN, also accepted
    (twilio-node's generated SayLanguage lists both), was the legacy `alice` voice's code, and
    a voice/language mismatch can make <Say> fail. Neural Zhiyu: the clearest Mandarin voice
    for an elderly listener."""
    if normalize_language(language) == "en":
        return settings.TWILIO_VOICE_EN_LANGUAGE, settings.TWILIO_VOICE_EN_VOICE
    return settings.TWILIO_VOICE_ZH_LANGUAGE, settings.TWILIO_VOICE_ZH_VOICE


def status_url(call_id: int) -> str:
    return _public_base() + STATUS_PATH.format(call_id=call_id)


def gather_url(call_id: int, language: str, attempt: int = 1) -> str:
    query = {"lang": normalize_language(language)}
    if attempt > 1:
        query["attempt"] = str(attempt)
    return _public_base() + GATHER_PATH.format(call_id=call_id) + "?" + urlencode(query)


def call_twiml(call: OutgoingCall) -> str:
    """The whole call: the question `repeat` times (each inside a one-key Gather when asking
    for a key), then the no-key goodbye and a hang-up."""
    language, voice = say_voice(call.language)
    question = texts.render_script(call.script, call.params, call.language, is_drill=call.is_drill)
    response = VoiceResponse()
    if call.gather:
        for _ in range(call.repeat):
            gather = response.gather(input="dtmf", num_digits=1, timeout=settings.VOICE_GATHER_SECONDS,
                                     action=gather_url(call.call_id, call.language), method="POST")
            gather.say(question, language=language, voice=voice)
        response.say(texts.render_script(texts.NO_KEY, {}, call.language), language=language, voice=voice)
    else:
        response.say(question, language=language, voice=voice, loop=call.repeat)
    response.hangup()
    return str(response)


def gather_response(call_id: int, digits: str, language: str, attempt: int = 1) -> str:
    """TwiML answering the gather action: thanks for 1 or 2; another key is asked again once
    (MAX_GATHER_ATTEMPTS), then the call says goodbye."""
    say_language, voice = say_voice(language)
    response = VoiceResponse()
    script = {"1": texts.ANSWER_SAFE, "2": texts.ANSWER_HELP}.get(digits)
    if script is not None:
        response.say(texts.render_script(script, {}, language), language=say_language, voice=voice)
    elif digits and attempt < MAX_GATHER_ATTEMPTS:
        gather = response.gather(input="dtmf", num_digits=1, timeout=settings.VOICE_GATHER_SECONDS,
                                 action=gather_url(call_id, language, attempt + 1), method="POST")
        gather.say(texts.render_script(texts.ANSWER_OTHER, {}, language), language=say_language, voice=voice)
        response.say(texts.render_script(texts.NO_KEY, {}, language), language=say_language, voice=voice)
    else:
        response.say(texts.render_script(texts.NO_KEY, {}, language), language=say_language, voice=voice)
    response.hangup()
    return str(response)


def gather_reply(request: HttpRequest) -> str:
    """gather_response() for a gather-action request that parse_event() accepted: the call,
    language and attempt come from the signed URL, the key from the signed form."""
    match = _PATH.search(request.path_info or "")
    call_id = int(match["call_id"]) if match else 0
    try:
        attempt = max(1, min(MAX_GATHER_ATTEMPTS, int(request.GET.get("attempt", "1"))))
    except ValueError:
        attempt = 1
    digits = request.POST.get("Digits", "")
    return gather_response(call_id, digits if _DIGITS.fullmatch(digits or "") else "",
                           request.GET.get("lang", "zh-hans"), attempt)


def _public_base() -> str:
    base: str = settings.PUBLIC_BASE_URL
    base = base.rstrip("/")
    if not base:
        raise ImproperlyConfigured("Twilio voice callbacks need PUBLIC_BASE_URL (the URL Twilio reaches us at).")
    return base


# --- webhooks ------------------------------------------------------------------------------------
def signature_is_valid(request: HttpRequest, form: QueryDict) -> bool:
    return twilio_signature_is_valid(request, form)


def _form(request: HttpRequest) -> QueryDict:
    check_body_size(request)
    if request.method != "POST":
        raise CallbackError("malformed", "Twilio webhooks are POSTs")
    # Twilio sends urlencoded forms; multipart is taken too (Django's test client posts it).
    if (request.content_type or "").lower() not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise CallbackError("malformed", "Twilio webhooks are form-encoded")
    try:
        return request.POST
    except Exception as exc:  # noqa: BLE001 - too many fields, undecodable body, ...: a bad request
        raise CallbackError("malformed", f"unreadable form: {type(exc).__name__}") from None


def _parse_time(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


class TwilioVoiceTransport(VoiceTransport):
    name = "twilio"

    def __init__(self) -> None:
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not sid or not token:
            raise ImproperlyConfigured("Twilio voice needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        self.from_number = settings.TWILIO_VOICE_FROM_NUMBER
        if not self.from_number:
            raise ImproperlyConfigured("Twilio voice needs TWILIO_VOICE_FROM_NUMBER (a voice-capable Twilio number).")
        _public_base()
        http = LinliTwilioHttpClient(timeout=settings.VOICE_HTTP_TIMEOUT, base_url=settings.TWILIO_API_BASE_URL)
        self.client = Client(sid, token, http_client=http)

    def place_call(self, call: OutgoingCall) -> CallResult:
        check_call(call)
        try:
            twiml = call_twiml(call)
        except TemplateError as exc:
            raise VoiceError(str(exc), "script", permanent=True) from None
        if len(twiml) > TWIML_MAX_CHARS:
            raise VoiceError(f"TwiML is {len(twiml)} characters (Twilio takes {TWIML_MAX_CHARS})", "too_long",
                             permanent=True)
        try:
            created = self.client.calls.create(
                to=call.to, from_=self.from_number, twiml=twiml,
                status_callback=status_url(call.call_id), status_callback_event=STATUS_EVENTS,
                status_callback_method="POST", timeout=settings.TWILIO_VOICE_RING_SECONDS,
            )
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise classify(exc) from exc
        logger.info("voice call %s placed with Twilio as %s", call.call_id, created.sid)
        return CallResult(sid=str(created.sid))

    def find_placed(self, *, to: str, since: datetime, exclude_sids: set[str]) -> CallResult | None:
        """Ask Twilio for recent calls to `to` from our number (newest first). Twilio's own
        start-time filters work by whole days, so the window is applied here, on creation
        time, which a queued call has before it starts."""
        try:
            recent = self.client.calls.list(to=to, from_=self.from_number, limit=50)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise classify(exc) from exc
        window_start = since - timedelta(minutes=2)  # clock skew between us and Twilio
        for placed in recent:
            created = placed.date_created
            if created is not None and created < window_start:
                continue
            if placed.sid not in exclude_sids:
                return CallResult(sid=str(placed.sid))
        return None

    def parse_event(self, request: HttpRequest) -> list[CallEvent]:
        form = _form(request)
        if not signature_is_valid(request, form):
            raise CallbackError("bad_signature", "missing or invalid X-Twilio-Signature")
        match = _PATH.search(request.path_info or "")
        call_id = int(match["call_id"]) if match else None
        sid = clean_field(form.get("CallSid"), pattern=_SID, name="CallSid")
        if match and match["kind"] == "gather":
            return [self._gather_event(form, sid, call_id)]
        return [self._status_event(form, sid, call_id)]

    @staticmethod
    def _gather_event(form: QueryDict, sid: str, call_id: int | None) -> CallEvent:
        digits = clean_field(form.get("Digits"), pattern=_DIGITS, name="Digits", required=False)
        return CallEvent(sid=sid, call_id=call_id, status=ANSWERED, digits=digits)

    @staticmethod
    def _status_event(form: QueryDict, sid: str, call_id: int | None) -> CallEvent:
        raw = clean_field(form.get("CallStatus"), pattern=_STATUS, name="CallStatus")
        if raw not in STATUS_MAP:
            raise CallbackError("malformed", f"unknown CallStatus {raw!r}")
        duration = clean_field(form.get("CallDuration"), pattern=_NUMBER, name="CallDuration", required=False)
        error = clean_field(form.get("ErrorCode"), pattern=_ERROR_CODE, name="ErrorCode", required=False)
        timestamp = form.get("Timestamp", "")
        return CallEvent(sid=sid, call_id=call_id, status=STATUS_MAP[raw],
                         duration_seconds=int(duration) if duration else None, error_code=error,
                         at=_parse_time(timestamp) if isinstance(timestamp, str) else None)

