"""Alibaba Cloud SMS (dysmsapi 2017-05-25) through the official SDK alibabacloud_dysmsapi20170525.

Settings: ALIYUN_ACCESS_KEY_ID / ALIYUN_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME (the approved
sign, shown as 【…】), ALIYUN_SMS_ENDPOINT (default dysmsapi.aliyuncs.com; a full URL such as
http://127.0.0.1:PORT points the SDK at tests/fake_aliyun_sms.py), SMS_HTTP_TIMEOUT (connect
and read, seconds), SMS_PROVIDER_TEMPLATES["aliyun"] (see provider_templates.py).

Sending (send_batch): messages with the same template, sign and values go out by SendSms, up
to 1,000 numbers per call; the others by SendBatchSms (per-recipient values and signs, one
template code) up to 100 per call, except a lone one, which uses SendSms (batch delivery may be
delayed, the docs warn). Aliyun answers one BizId per call, so each recipient's sid is
f"{BizId}:{E.164 phone}" (a number appears at most once per call); receipts carry biz_id and
phone_number and map back to the same sid. OutId carries our message id when a call has one
recipient (OutId is one per call).

A call either goes through for all its numbers or fails for all: when it fails with a code that
may concern one number or one set of values (isv.MOBILE_NUMBER_ILLEGAL, isv.BUSINESS_LIMIT_CONTROL,
…), the call is split in halves and retried until the culprit stands alone. SendSms is not
idempotent and the SDK never retries here: a timeout or 5xx is maybe_sent, and find_sent() asks
QuerySendDetails before the outbox sends again.

Receipts and replies: Aliyun has no HTTP pull API (only MNS queues, not used): configure "HTTP
batch push" for SmsReport and SmsUp and parse them with parse_receipt_callback and
parse_reply_callback; Aliyun does not sign them, so the URLs carry ?token=ALIYUN_SMS_CALLBACK_TOKEN.

Facts (help.aliyun.com, 2024-2025): SendSms ≤1,000 numbers, SendBatchSms ≤100 (API reference);
a notification variable is 1-35 characters unless the limit is lifted for the template, a
verification-code variable 4-6 (document_detail/3041859, template specifications); the whole
message ≤500 characters; codes: document_detail/101346 (API), 101347 (receipts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client as DysmsClient
from alibabacloud_tea_openapi import utils_models as openapi_models
from darabonba.runtime import RuntimeOptions
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.text import parse_id

from . import callbacks
from .base import (
    CallbackError,
    DeliveryReceipt,
    InboundReply,
    OutgoingSms,
    SendResult,
    Transport,
    TransportError,
)
from .provider_templates import ProviderTemplate, choose_template, provider_entries

logger = logging.getLogger(__name__)
# The SDK's core dumps whole requests (numbers, values) at DEBUG, to its own stderr handler,
# when the environment says DEBUG=sdk.
logging.getLogger("darabonba-core").setLevel(logging.WARNING)

PROVIDER = "aliyun"
MAX_NUMBERS_PER_SEND = 1000  # SendSms: one template, one TemplateParam
MAX_NUMBERS_PER_BATCH = 100  # SendBatchSms: per-recipient TemplateParam and SignName
VARIABLE_MAX_CHARS = 35  # notification templates, unless the limit was lifted
CODE_VARIABLE_MAX_CHARS = 6  # verification-code templates: 4-6
MESSAGE_MAX_CHARS = 500  # sign + fixed text + variables

# API codes (document_detail/101346). The message's own fault: retrying cannot help.
PERMANENT_CODES = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_PARAMETERS", "isv.INVALID_JSON_PARAM", "isv.PARAM_LENGTH_LIMIT", "isv.PARAM_NOT_SUPPORT_URL",
    "isv.BLACK_KEY_CONTROL_LIMIT", "isv.TEMPLATE_PARAMS_ILLEGAL", "isv.SMS_CONTENT_ILLEGAL",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED", "isv.EXTEND_CODE_ERROR",
})
# A template or sign that is not approved: permanent for the message, and an operator must act.
CONFIG_CODES = frozenset({
    "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGN_ILLEGAL", "isv.SIGN_STATE_ILLEGAL",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
})
# Nothing goes through until an operator acts (credentials, balance, account): not permanent.
OPERATOR_CODES = frozenset({
    "SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive", "IncompleteSignature",
    "InvalidTimeStamp.Expired", "Forbidden.RAM", "isp.RAM_PERMISSION_DENY", "isv.AMOUNT_NOT_ENOUGH",
    "isv.OUT_OF_SERVICE", "isv.PRODUCT_UN_SUBSCRIPT", "isv.PRODUCT_UNSUBSCRIBE", "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL", "isv.DENY_IP_RANGE", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL",
    "isv.SECURITY_FROZEN_ACCOUNT",
})
# Flow control: try again later (isv.BUSINESS_LIMIT_CONTROL is per number: minute/hour/day caps).
THROTTLE_CODES = frozenset({"Throttling", "Throttling.User", "Throttling.Api", "isv.BUSINESS_LIMIT_CONTROL"})
SERVER_CODES = frozenset({"isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "InternalError", "ServiceUnavailable"})
# A call failing with one of these may be one number's or one value's fault: split it.
SPLIT_CODES = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.BUSINESS_LIMIT_CONTROL", "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
    "isv.PARAM_LENGTH_LIMIT", "isv.PARAM_NOT_SUPPORT_URL", "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.TEMPLATE_PARAMS_ILLEGAL", "isv.INVALID_JSON_PARAM",
})
# Receipt codes (err_code; carriers' codes passed through, document_detail/101347 and 2679007):
# the person complained about or unsubscribed from our sign -> treat like Twilio 21610 (opt-out).
UNSUBSCRIBED_CODES = frozenset({"W-BLACK", "MBBLACK", "DBBLACK", "TDBLACK", "BLACK"})
# The number does not exist or is suspended (空号, 停机): stop texting it, tell staff.
UNREACHABLE_CODES = frozenset({"MK:0001", "MK:0005", "MK:0013", "DB:0101", "DB:0102", "CB:0053",
                               "MI:0054", "MI:0059", "MI:0073", "MI:0210"})
DELIVERED = "DELIVERED"


def classify_code(code: str, message: str = "") -> TransportError:
    """A TransportError for an Aliyun error code (in a 200 body or an error response)."""
    text = f"Aliyun {code}: {message}"[:500]
    if code in PERMANENT_CODES:
        return TransportError(text, code, permanent=True)
    if code in CONFIG_CODES:
        return TransportError(text, code, permanent=True, operator=True)
    if code in OPERATOR_CODES:
        return TransportError(text, code, permanent=False, operator=True)
    if code in THROTTLE_CODES:
        return TransportError(text, code, permanent=False)
    # A server error may come after the message was taken: ask before sending again.
    return TransportError(text, code or "error", permanent=False, maybe_sent=code in SERVER_CODES or not code)


def classify_exception(exc: Exception) -> TransportError:
    """Map what the SDK raised to a TransportError."""
    code = str(getattr(exc, "code", "") or "")
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return TransportError(f"Aliyun HTTP {status} {code}"[:500], code or str(status), maybe_sent=True)
    if isinstance(status, int) and code:
        return classify_code(code, str(getattr(exc, "message", "") or ""))
    cause = _network_cause(exc)
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return TransportError("Aliyun connect timeout", "timeout")
    if isinstance(cause, requests.exceptions.ReadTimeout):
        return TransportError("Aliyun read timeout", "timeout", maybe_sent=True)
    if isinstance(cause, requests.exceptions.ConnectionError) and _never_connected(cause):
        return TransportError("Aliyun connection refused", "network")
    if isinstance(cause, requests.exceptions.RequestException):
        return TransportError(f"Aliyun network error: {type(cause).__name__}", "network", maybe_sent=True)
    return TransportError(f"Aliyun error: {type(exc).__name__}", "error", maybe_sent=True)


def _network_cause(exc: BaseException) -> BaseException | None:
    """The SDK wraps requests' exception (RetryError inside UnretryableException): find it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, requests.exceptions.RequestException):
            return current
        inner = getattr(current, "inner_exception", None)
        current = inner if isinstance(inner, BaseException) else (current.__cause__ or current.__context__)
    return None


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "Name or service" in text


def provider_phone(e164: str) -> str:
    """Aliyun's number format: 11 digits for the mainland, country code + number otherwise."""
    if not callbacks.E164.match(e164 or ""):
        raise TransportError("not an E.164 number", "invalid_number", permanent=True)
    if e164.startswith("+86"):
        national = e164[3:]
        if not callbacks.MAINLAND_MOBILE.match(national):
            raise TransportError("not a mainland mobile number", "invalid_number", permanent=True)
        return national
    return e164[1:]


@dataclass(frozen=True)
class _Item:
    index: int
    message: OutgoingSms
    phone: str  # Aliyun's format
    template: ProviderTemplate


class AliyunTransport(Transport):
    name = "aliyun"
    max_batch = MAX_NUMBERS_PER_SEND
    unsubscribed_codes = UNSUBSCRIBED_CODES
    unreachable_codes = UNREACHABLE_CODES
    per_number_limit_codes = frozenset({"isv.BUSINESS_LIMIT_CONTROL"})  # minute/hour/day caps per number
    throttle_codes = frozenset({"Throttling", "Throttling.User", "Throttling.Api"})

    def __init__(self) -> None:
        key_id, secret = settings.ALIYUN_ACCESS_KEY_ID, settings.ALIYUN_ACCESS_KEY_SECRET
        if not key_id or not secret:
            raise ImproperlyConfigured("SMS_BACKEND is Aliyun but ALIYUN_ACCESS_KEY_ID/SECRET are not set.")
        self.sign = settings.ALIYUN_SMS_SIGN_NAME
        if not self.sign:
            raise ImproperlyConfigured("Set ALIYUN_SMS_SIGN_NAME (the approved sign).")
        timeout_ms = max(1, int(float(settings.SMS_HTTP_TIMEOUT) * 1000))
        self.runtime = RuntimeOptions(read_timeout=timeout_ms, connect_timeout=timeout_ms)
        protocol, host = _endpoint(settings.ALIYUN_SMS_ENDPOINT)
        config = openapi_models.Config(access_key_id=key_id, access_key_secret=secret, endpoint=host,
                                       protocol=protocol, read_timeout=timeout_ms, connect_timeout=timeout_ms)
        self.client = DysmsClient(config)

    # --- sending ----------------------------------------------------------------------------
    def send(self, *, to: str, body: str, status_callback: str | None = None,
             message: OutgoingSms | None = None) -> SendResult:
        """One message through send_batch(); without `message`, `body` goes as the sms.text
        template's variable (status_callback is unused: receipts come by HTTP push)."""
        outgoing = message or OutgoingSms(message_id=0, to=to, body=body, template="sms.text", params={"text": body})
        result = self.send_batch([outgoing])[0]
        if isinstance(result, TransportError):
            raise result
        return result

    def send_batch(self, messages: list[OutgoingSms]) -> list[SendResult | TransportError]:
        results: list[SendResult | TransportError | None] = [None] * len(messages)
        entries = provider_entries(PROVIDER)  # once per batch: merging the settings is not free
        items: list[_Item] = []
        for index, message in enumerate(messages):
            try:
                template = choose_template(PROVIDER, message, sign=self.sign, default_limit=VARIABLE_MAX_CHARS,
                                           entries=entries)
                items.append(_Item(index, message, provider_phone(message.to), template))
            except TransportError as exc:
                results[index] = exc
        for call in _plan(items):
            for item, result in self._call(call):
                results[item.index] = result
        return [r if r is not None else TransportError("not sent", "error") for r in results]

    def _call(self, items: list[_Item]) -> Iterator[tuple[_Item, SendResult | TransportError]]:
        try:
            biz_id = self._send_sms(items) if _same_values(items) else self._send_batch_sms(items)
        except TransportError as exc:
            if len(items) > 1 and exc.code in SPLIT_CODES:
                half = len(items) // 2
                yield from self._call(items[:half])
                yield from self._call(items[half:])
                return
            for item in items:
                yield item, TransportError(exc.message, exc.code, exc.permanent, maybe_sent=exc.maybe_sent,
                                           operator=exc.operator)
            return
        for item in items:
            yield item, SendResult(sid=f"{biz_id}:{item.message.to}", provider_status="sent")

    def _send_sms(self, items: list[_Item]) -> str:
        template = items[0].template
        request = sms_models.SendSmsRequest(
            phone_numbers=",".join(item.phone for item in items), sign_name=template.sign,
            template_code=template.code, template_param=_json(template.named()) if template.values else None,
            out_id=_out_id(items))
        return self._checked(lambda: self.client.send_sms_with_options(request, self.runtime))

    def _send_batch_sms(self, items: list[_Item]) -> str:
        request = sms_models.SendBatchSmsRequest(
            phone_number_json=_json([item.phone for item in items]),
            sign_name_json=_json([item.template.sign for item in items]),
            template_code=items[0].template.code,
            template_param_json=_json([item.template.named() for item in items]) if items[0].template.values else None,
            out_id=_out_id(items))
        return self._checked(lambda: self.client.send_batch_sms_with_options(request, self.runtime))

    def _checked(self, call: Any) -> str:
        """BizId of a successful call; TransportError otherwise (the SDK's response models are
        untyped, hence Any)."""
        try:
            response = call()
        except Exception as exc:  # the SDK raises Tea/Dara exceptions and wraps requests'
            raise classify_exception(exc) from exc
        body = response.body
        if body is None or body.code != "OK":
            raise classify_code(str(getattr(body, "code", "") or ""), str(getattr(body, "message", "") or ""))
        if not body.biz_id:
            raise TransportError("Aliyun answered OK without a BizId", "error", maybe_sent=True)
        return str(body.biz_id)

    # --- reconciling ------------------------------------------------------------------------
    def find_sent(self, *, to: str, body: str, since: datetime, exclude_sids: set[str],
                  message: OutgoingSms | None = None) -> SendResult | None:
        """A message to `to` since `since` per QuerySendDetails. Without `message` this cannot
        tell one text from another (Aliyun renders its own template), so it answers None and
        the caller resends. With it: the same template code and either our OutId or every
        variable value in the content. Details carry no BizId, so the sid is
        "query:<phone>:<SendDate>", which receipts will not match (they match by out_id)."""
        if message is None:
            return None
        try:
            template = choose_template(PROVIDER, message, sign=self.sign, default_limit=VARIABLE_MAX_CHARS)
            phone = provider_phone(to)
        except TransportError:
            return None
        window_start = since - timedelta(minutes=2)  # clock skew between us and Aliyun
        for detail in self._details(phone, window_start):
            sent_at = callbacks.local_time(str(detail.send_date or ""))
            sid = f"query:{to}:{detail.send_date}"
            if sent_at is None or sent_at < window_start or sid in exclude_sids or detail.template_code != template.code:
                continue
            ours = detail.out_id == str(message.message_id)
            content = str(detail.content or "")
            if ours or (not detail.out_id and all(value in content for _, value in template.values)):
                return SendResult(sid=sid, provider_status="sent" if detail.send_status != 2 else "failed")
        return None

    def _details(self, phone: str, since: datetime) -> Iterator[Any]:
        day = since.astimezone(callbacks.PROVIDER_TZ).date()
        today = datetime.now(callbacks.PROVIDER_TZ).date()
        while day <= today:
            for page in range(1, 5):
                request = sms_models.QuerySendDetailsRequest(phone_number=phone, send_date=day.strftime("%Y%m%d"),
                                                             page_size=50, current_page=page)
                try:
                    response = self.client.query_send_details_with_options(request, self.runtime)
                except Exception as exc:  # the SDK's exceptions, see _checked
                    raise classify_exception(exc) from exc
                body = response.body
                if body is None or body.code != "OK":
                    raise classify_code(str(getattr(body, "code", "") or ""), str(getattr(body, "message", "") or ""))
                found = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
                yield from found
                if len(found) < 50:
                    break
            day += timedelta(days=1)


# Identical messages go together by SendSms when at least this many share the values; fewer
# ride in a SendBatchSms with the others (reply codes make most prompts differ: pairs that
# happen to share a code would otherwise cost a call each).
SHARED_MIN = 10


def _plan(items: list[_Item]) -> list[list[_Item]]:
    """Calls to make: identical (template, sign, values) together by SendSms; the rest by
    SendBatchSms per template code; never one number twice in a call."""
    groups: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[_Item]] = {}
    for item in items:
        groups.setdefault((item.template.code, item.template.sign, item.template.values), []).append(item)
    calls: list[list[_Item]] = []
    singles: dict[str, list[_Item]] = {}
    for group in groups.values():
        if len(group) >= SHARED_MIN:
            calls.extend(_chunks(group, MAX_NUMBERS_PER_SEND))
        else:
            singles.setdefault(group[0].template.code, []).extend(group)
    for same_code in singles.values():
        calls.extend(_chunks(same_code, MAX_NUMBERS_PER_BATCH))
    return calls


def _chunks(items: list[_Item], size: int) -> list[list[_Item]]:
    chunks: list[tuple[list[_Item], set[str]]] = []
    for item in items:
        target = next((c for c in chunks if len(c[0]) < size and item.phone not in c[1]), None)
        if target is None:
            target = ([], set())
            chunks.append(target)
        target[0].append(item)
        target[1].add(item.phone)
    return [chunk for chunk, _ in chunks]


def _same_values(items: list[_Item]) -> bool:
    first = items[0].template
    return all((i.template.sign, i.template.values) == (first.sign, first.values) for i in items)


def _out_id(items: list[_Item]) -> str | None:
    return str(items[0].message.message_id) if len(items) == 1 and items[0].message.message_id else None


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _endpoint(value: str) -> tuple[str, str]:
    """("HTTPS", "dysmsapi.aliyuncs.com") from a host name or a URL."""
    if "://" not in value:
        return "HTTPS", value.strip().rstrip("/")
    parts = urlsplit(value)
    return parts.scheme.upper(), parts.netloc


# --- callbacks (HTTP batch push) ------------------------------------------------------------
def parse_receipt_callback(body: bytes, headers: Mapping[str, str], *, query: Mapping[str, str] | None = None,
                           token: str | None = None) -> list[DeliveryReceipt]:
    """SmsReport: a JSON array of {phone_number, send_time, report_time, success, err_code,
    err_msg, sms_size, biz_id, out_id}. Answer {"code": 0, "msg": "成功"} when it parsed."""
    callbacks.check_token(query, settings.ALIYUN_SMS_CALLBACK_TOKEN if token is None else token)
    receipts = []
    for record in callbacks.records(callbacks.read_json(body)):
        phone = callbacks.phone_from_provider(callbacks.text(record, "phone_number", max_len=20))
        biz_id = callbacks.text(record, "biz_id", max_len=64)
        success = record.get("success")
        if not isinstance(success, bool):
            raise CallbackError("'success' is not true/false", "bad_value")
        code = callbacks.text(record, "err_code", required=False, max_len=64)
        out_id = callbacks.text(record, "out_id", required=False, max_len=64)
        receipts.append(DeliveryReceipt(
            sid=f"{biz_id}:{phone}", phone=phone, status=receipt_status(success, code), error_code=code,
            message_id=parse_id(out_id),
            at=callbacks.local_time(callbacks.text(record, "report_time", required=False, max_len=32)),
        ))
    return receipts


def receipt_status(success: bool, code: str) -> str:
    if success:
        return "delivered"
    # Codes of Aliyun's own platform (isv./isp.) mean it never reached a carrier.
    return "failed" if code.startswith(("isv.", "isp.")) else "undelivered"


def parse_reply_callback(body: bytes, headers: Mapping[str, str], *, query: Mapping[str, str] | None = None,
                         token: str | None = None) -> list[InboundReply]:
    """SmsUp: a JSON array of {phone_number, send_time, content, sign_name, dest_code,
    sequence_id}; sequence_id is Aliyun's id for the reply (used as the sid)."""
    callbacks.check_token(query, settings.ALIYUN_SMS_CALLBACK_TOKEN if token is None else token)
    replies = []
    for record in callbacks.records(callbacks.read_json(body)):
        phone = callbacks.phone_from_provider(callbacks.text(record, "phone_number", max_len=20))
        content = callbacks.text(record, "content", required=False)
        sent = callbacks.text(record, "send_time", required=False, max_len=32)
        dest = callbacks.text(record, "dest_code", required=False, max_len=32)
        sequence = callbacks.text(record, "sequence_id", required=False, max_len=32)
        sid = f"aliyun-up:{sequence}" if sequence else callbacks.stable_sid("aliyun-up:", phone, sent, content, dest)
        replies.append(InboundReply(sid=sid, phone=phone, body=content, to=dest or callbacks.text(
            record, "sign_name", required=False, max_len=64), at=callbacks.local_time(sent)))
    return replies
