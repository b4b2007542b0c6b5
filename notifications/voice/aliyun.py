"""Domestic (+86) voice calls: Alibaba Cloud Voice Service (dyvms) IvrCall, official SDK.

Why IvrCall and not SingleCallByTts: SingleCallByTts only plays a TTS template; IvrCall plays
a start template, waits `Timeout` ms for a key, plays the template mapped to that key in
MenuKeyMap, and reports the key as `dtmf` in its receipts (VoiceCallReport status_code 300000;
VoiceReport, the record pushed when the call ends, also carries `dtmf`). Aliyun's own answer
to "does voice service report key presses": use IvrCall, read dtmf from VoiceCallReport
(developer.aliyun.com/ask/646333). IvrCall needs a purchased real number (CalledShowNumber)
and mainland numbers only. A call with gather=False is a plain SingleCallByTts.

Templates live in the Aliyun console and must be approved; ALIYUN_VOICE_TEMPLATES maps our
script names (notifications/voice/texts.py) to their codes, per language:

    {"emergency.safety.voice": {"zh-hans": "TTS_1", "en": "TTS_2"},
     "emergency.safety.voice.drill": {"zh-hans": "TTS_3"},     # says 这是一次演练。 first
     "voice.answer.safe": {...}, "voice.answer.help": {...}, "voice.no_key": {...}}

The templates use the scripts' variable names (${area}, ${title}). English falls back to the
Chinese template when none is mapped; a drill without a drill template is refused.

Receipts come by "HTTP batch push" (a JSON array POSTed to the URL set in the console), which
Aliyun does not sign: the URL carries a shared secret, ?t=ALIYUN_VOICE_CALLBACK_TOKEN
(callback_url()), compared in constant time. `t` because the access log already redacts it.
The push must be answered within 700 ms with {"code": 0, "msg": "接收成功"} (acknowledgement());
it may arrive twice.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alibabacloud_dyvmsapi20170525 import models as vms
from alibabacloud_dyvmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as openapi
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.exceptions import UnretryableException
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from core.text import parse_id
from notifications.templates import TemplateError, normalize_language

from . import texts
from .base import (
    ANSWERED,
    BUSY,
    COMPLETED,
    FAILED,
    NO_ANSWER,
    RINGING,
    Ack,
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

REPORT_PATH = "/voice/aliyun/report/"
TOKEN_PARAM = "t"
ACK_BODY = {"code": 0, "msg": "接收成功"}
TTS_PARAM_MAX_CHARS = 249  # "模板变量整体长度必须小于 250 个字符" (SingleCallByTts reference)
MAX_ITEMS = 1000
SHANGHAI = ZoneInfo("Asia/Shanghai")

THROTTLE_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api"}
# The account, not the call: an operator must act; keep retrying until they do.
ACCOUNT_CODES = {
    "isv.OUT_OF_SERVICE", "isv.AMOUNT_NOT_ENOUGH", "isv.AMOUNT_NOT_ENOUG", "isv.ACCOUNT_ABNORMAL",
    "isv.ACCOUNT_NOT_EXISTS", "isv.PRODUCT_UNSUBSCRIBE", "isv.PRODUCT_UN_SUBSCRIPT", "isp.RAM_PERMISSION_DENY",
    "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive", "SignatureDoesNotMatch", "IncompleteSignature",
}
_NOT_SENT = ("ConnectTimeout", "Connection refused", "NewConnectionError", "NameResolution", "Failed to resolve")

# Receipt status codes (呼叫状态码 / 运营商回执错误码).
DTMF = "300000"
IN_CALL = {"200101": RINGING, "200201": RINGING, "200102": ANSWERED}  # VoiceCallReport progress
FINAL = {
    "200000": COMPLETED,  # listened to the end
    "200001": COMPLETED,  # hung up before the end
    "200008": COMPLETED,  # key wait timed out
    "200002": BUSY,
    "200005": BUSY,  # rejected / could not be connected (anti-harassment, carrier)
    "200003": NO_ANSWER,
    "200007": NO_ANSWER,  # out of service area
    "200010": NO_ANSWER,  # powered off
}

_CALL_ID = re.compile(r"[0-9A-Za-z^_.*\-]{1,100}")  # the docs' examples mask digits with *
_STATUS_CODE = re.compile(r"\d{1,8}")
_OUT_ID = re.compile(r"[0-9A-Za-z_.\-]{1,64}")
_DIGITS = re.compile(r"[0-9*#]{1,32}")
_SECONDS = re.compile(r"\d{1,9}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_SMART = re.compile(r"[A-Z_]{1,40}")
_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")
_LANDLINE = re.compile(r"^\+86[2-9]\d{8,10}$")
_LINK = re.compile(r"(?i)(?:https?://|www\.)\S*")


def mainland_number(e164: str) -> str:
    """+8613912345678 -> 13912345678; +8657188776655 -> 057188776655 (IvrCall's formats)."""
    if _MOBILE.match(e164):
        return e164[3:]
    if _LANDLINE.match(e164):
        return "0" + e164[3:]
    raise VoiceError("IvrCall reaches mainland China numbers only", "not_mainland", permanent=True)


def tts_params(script_name: str, params: dict[str, str]) -> dict[str, str]:
    """The script's variables, spoken-clean, without links (refused by Aliyun), the whole
    JSON under the documented 250 characters: the longest variable is cut first."""
    script = texts.get_voice_script(script_name)
    values = {k: _LINK.sub("", v).replace("${", "").strip() for k, v in texts.spoken_params(script, params).items()}
    while values and len(_json(values)) > TTS_PARAM_MAX_CHARS:
        longest = max(values, key=lambda k: len(values[k]))
        if not values[longest]:
            break
        overflow = len(_json(values)) - TTS_PARAM_MAX_CHARS
        values[longest] = values[longest][: max(0, len(values[longest]) - overflow)]
    return values


def _json(values: dict[str, str]) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def classify_code(code: str, message: str, status: int = 200) -> VoiceError:
    text = f"Aliyun {status} {code}: {message}"[:500]
    if code in THROTTLE_CODES or code.startswith("Throttling"):
        return VoiceError(text, code)
    if code in ACCOUNT_CODES:
        return VoiceError(text, code)
    if status >= 500 or code.startswith("isp.") or code in ("InternalError", "ServiceUnavailable"):
        return VoiceError(text, code or str(status), maybe_placed=True)
    return VoiceError(text, code or str(status), permanent=True)


def classify(exc: Exception) -> VoiceError:
    """Map what the SDK raised to a VoiceError. The SDK turns every network failure into an
    UnretryableException around a RetryError holding only the message, so a connection that
    never opened is told from a read time-out by its text."""
    if isinstance(exc, AlibabaCloudException):
        return classify_code(str(exc.code or ""), str(exc.message or ""), int(exc.status_code or 0))
    if isinstance(exc, UnretryableException):
        detail = str(getattr(exc, "inner_exception", "") or exc)
        if any(marker in detail for marker in _NOT_SENT):
            return VoiceError("Aliyun connection failed", "network")
        if "timed out" in detail.lower():
            return VoiceError("Aliyun read timeout", "timeout", maybe_placed=True)
        return VoiceError("Aliyun network error", "network", maybe_placed=True)
    return VoiceError(f"Aliyun error: {type(exc).__name__}", "error", maybe_placed=True)


def callback_url() -> str:
    """The HTTP batch push URL to enter in the console (VoiceReport and VoiceCallReport)."""
    base: str = settings.PUBLIC_BASE_URL
    token: str = settings.ALIYUN_VOICE_CALLBACK_TOKEN
    return f"{base.rstrip('/')}{REPORT_PATH}?{TOKEN_PARAM}={token}"


class AliyunVoiceTransport(VoiceTransport):
    name = "aliyun"

    def __init__(self) -> None:
        key_id, secret = settings.ALIYUN_VOICE_ACCESS_KEY_ID, settings.ALIYUN_VOICE_ACCESS_KEY_SECRET
        if not key_id or not secret:
            raise ImproperlyConfigured("Aliyun voice needs ALIYUN_VOICE_ACCESS_KEY_ID and ALIYUN_VOICE_ACCESS_KEY_SECRET.")
        self.show_number = settings.ALIYUN_VOICE_SHOW_NUMBER
        if not self.show_number:
            raise ImproperlyConfigured("Aliyun IvrCall needs ALIYUN_VOICE_SHOW_NUMBER (a purchased real number).")
        self.templates: dict[str, Any] = dict(settings.ALIYUN_VOICE_TEMPLATES or {})
        timeout_ms = int(settings.VOICE_HTTP_TIMEOUT * 1000)
        config = openapi.Config(
            access_key_id=key_id, access_key_secret=secret, endpoint=settings.ALIYUN_VOICE_ENDPOINT,
            protocol=settings.ALIYUN_VOICE_PROTOCOL, read_timeout=timeout_ms, connect_timeout=min(timeout_ms, 5000),
        )
        self.client = Client(config)  # no retry options: the SDK never places a call twice

    # --- placing ------------------------------------------------------------------------------
    def template(self, script: str, language: str, *, required: bool = True) -> str:
        entry = self.templates.get(script)
        code: object = entry
        if isinstance(entry, dict):
            code = entry.get(normalize_language(language)) or entry.get("zh-hans")
        if isinstance(code, str) and code:
            return code
        if required:
            raise VoiceError(f"no Aliyun TTS template for {script!r}: set ALIYUN_VOICE_TEMPLATES", "template_missing",
                             permanent=True)
        return ""

    def place_call(self, call: OutgoingCall) -> CallResult:
        check_call(call)
        number = mainland_number(call.to)
        start = self.template(call.script + (".drill" if call.is_drill else ""), call.language)
        try:
            variables = tts_params(call.script, call.params)
        except TemplateError as exc:
            raise VoiceError(str(exc), "script", permanent=True) from None
        params_json = _json(variables) if variables else None
        if call.gather:
            request: Any = vms.IvrCallRequest(
                called_number=number, called_show_number=self.show_number, start_code=start,
                start_tts_params=params_json, play_times=call.repeat, out_id=str(call.call_id),
                timeout=settings.VOICE_GATHER_SECONDS * 1000,
                menu_key_map=[
                    vms.IvrCallRequestMenuKeyMap(key="1", code=self.template(texts.ANSWER_SAFE, call.language)),
                    vms.IvrCallRequestMenuKeyMap(key="2", code=self.template(texts.ANSWER_HELP, call.language)),
                ],
                bye_code=self.template(texts.NO_KEY, call.language, required=False) or None,
            )
            send = self.client.ivr_call
        else:
            request = vms.SingleCallByTtsRequest(
                called_number=number, called_show_number=self.show_number, tts_code=start,
                tts_param=params_json, play_times=call.repeat, out_id=str(call.call_id),
            )
            send = self.client.single_call_by_tts
        try:
            response = send(request)
        except Exception as exc:  # the SDK's exception types share no useful base
            raise classify(exc) from exc
        body = response.body
        code = str(getattr(body, "code", "") or "")
        if code != "OK":
            raise classify_code(code or "no_code", str(getattr(body, "message", "") or ""))
        if not body.call_id:
            raise VoiceError("Aliyun answered OK without a CallId", "no_call_id", maybe_placed=True)
        logger.info("voice call %s placed with Aliyun as %s", call.call_id, body.call_id)
        return CallResult(sid=str(body.call_id))

    # find_placed: Aliyun cannot list calls by number (QueryCallDetailByCallId needs the CallId
    # a timed-out request never returned); the base answer None stands. A call that was placed
    # still reports itself: its receipts carry out_id = our call_id.

    # --- receipts -----------------------------------------------------------------------------
    def acknowledgement(self) -> Ack:
        return Ack(200, "application/json", json.dumps(ACK_BODY, ensure_ascii=False))

    def parse_event(self, request: HttpRequest) -> list[CallEvent]:
        body = check_body_size(request)
        if request.method != "POST":
            raise CallbackError("malformed", "Aliyun receipts are POSTs")
        self._check_token(request)
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise CallbackError("malformed", "the receipt is not JSON") from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or len(data) > MAX_ITEMS:
            raise CallbackError("malformed", "the receipt is not a JSON array of records")
        events: list[CallEvent] = []
        for item in data:
            event = self._event(item)
            if event is not None:
                events.append(event)
        return events

    @staticmethod
    def _check_token(request: HttpRequest) -> None:
        expected = settings.ALIYUN_VOICE_CALLBACK_TOKEN
        given = request.GET.get(TOKEN_PARAM, "")
        if not expected or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                   expected.encode("utf-8", "surrogatepass")):
            raise CallbackError("bad_signature", "missing or wrong callback token")

    @staticmethod
    def _event(item: object) -> CallEvent | None:
        if not isinstance(item, dict):
            raise CallbackError("malformed", "a receipt record is not an object")
        sid = clean_field(item.get("call_id"), pattern=_CALL_ID, name="call_id")
        code = clean_field(item.get("status_code"), pattern=_STATUS_CODE, name="status_code")
        out_id = clean_field(item.get("out_id"), pattern=_OUT_ID, name="out_id", required=False)
        digits = clean_field(item.get("dtmf"), pattern=_DIGITS, name="dtmf", required=False)
        seconds = clean_field(item.get("duration"), pattern=_SECONDS, name="duration", required=False)
        smart = clean_field(item.get("smart_status_code"), pattern=_SMART, name="smart_status_code", required=False)
        when = ""
        for name in ("status_time", "end_time"):
            when = when or clean_field(item.get(name), pattern=_TIME, name=name, required=False)
        call_id = parse_id(out_id)
        at = datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI) if when else None
        final = any(item.get(k) not in (None, "") for k in ("duration", "end_time", "start_time", "originate_time"))

        def event(status: str, error: str = "") -> CallEvent:
            return CallEvent(sid=sid, call_id=call_id, status=status, digits=digits,
                             duration_seconds=int(seconds) if seconds else None, error_code=error, at=at)

        if code == DTMF:
            return event(ANSWERED)
        if not final and code in IN_CALL:
            return event(IN_CALL[code])
        if not final and code == "200100":
            # "call ended" mid-stream: only an answered one is known complete; the
            # VoiceReport that follows settles the rest.
            return event(COMPLETED) if smart == "ANSWERED" else None
        if code in FINAL:
            status = FINAL[code]
            return event(status, "" if status == COMPLETED else code)
        return event(FAILED, code)
