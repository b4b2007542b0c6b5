"""Tencent Cloud SMS (API 2021-01-11) through the official SDK tencentcloud-sdk-python-sms.

Settings: TENCENT_SECRET_ID / TENCENT_SECRET_KEY, TENCENT_SMS_SDK_APP_ID, TENCENT_SMS_SIGN_NAME,
TENCENT_SMS_REGION (default ap-guangzhou), TENCENT_SMS_ENDPOINT (default sms.tencentcloudapi.com;
a full URL such as http://127.0.0.1:PORT points the SDK at tests/fake_tencent_sms.py),
SMS_HTTP_TIMEOUT, SMS_PROVIDER_TEMPLATES["tencent"] (see provider_templates.py; Tencent's
variables are positional: {1} {2} in the order of "params").

Sending (send_batch): messages with the same template, sign and values go out together, up
to 200 numbers per SendSms call, mainland and other numbers never mixed in one call (Tencent
refuses that). Each number gets its own SendStatus: Code "Ok" with a SerialNo (the sid, unique
per recipient), or an error code mapped to a TransportError for that recipient alone.
SessionContext carries our message id when a call has one recipient (it is one per call); the
SDK does not retry, so a timeout or 5xx is maybe_sent for the whole call.

Receipts and replies: pull_receipts() (PullSmsSendStatus) and pull_replies()
(PullSmsReplyStatus) — each record is handed out once; both pull APIs must be enabled for the
account — or the HTTP callbacks, parsed by parse_receipt_callback and parse_reply_callback.
Tencent does not sign callbacks: the URLs carry ?token=TENCENT_SMS_CALLBACK_TOKEN.

Facts (cloud.tencent.com, 2024-2025): SendSms ≤200 numbers, all mainland or all not
(document/api/382/55981); a verification-code variable is at most 6 digits; other variables
"at most 6 characters" (FAQ document/product/382/13301) — earlier 12 for individual accounts
and unlimited for enterprises (382/39023 now defers to the console's template page), so raise
"limits" per template to what the console shows; the whole message ≤500 characters; error
codes: document/api/382/59177; callbacks: document/product/382/52077 and 52078 (formerly
api/382/5807, 5809).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

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
# The SDK logs every request and response (numbers, texts) at DEBUG under this name.
logging.getLogger("tencentcloud_sdk_common").setLevel(logging.WARNING)

PROVIDER = "tencent"
MAX_NUMBERS_PER_SEND = 200
VARIABLE_MAX_CHARS = 6  # the FAQ's figure for non-verification variables; per-template "limits" raise it
CODE_VARIABLE_MAX_DIGITS = 6
MESSAGE_MAX_CHARS = 500
PULL_LIMIT = 100  # records per PullSmsSendStatus / PullSmsReplyStatus call
PULL_ROUNDS = 20  # pulls per pull_receipts() / pull_replies() call, at most
OK = "Ok"

# Error codes (document/api/382/59177). The message's own fault: retrying cannot help.
PERMANENT_CODES = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber", "InvalidParameterValue.ContentLengthLimit",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", "InvalidParameterValue.TemplateParameterFormatError",
    "InvalidParameterValue.TemplateParameterLengthLimit", "FailedOperation.ContainSensitiveWord",
    "FailedOperation.PhoneNumberInBlacklist", "FailedOperation.PhoneNumberParseFail",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "FailedOperation.JsonParseFail",
    "FailedOperation.FailResolvePacket", "LimitExceeded.PhoneNumberCountLimit", "MissingParameter.EmptyPhoneNumberSet",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", "UnsupportedOperation.UnsupportedRegion",
    "LimitExceeded.AppCountryOrRegionInBlacklist",
})
# A sign or template that is not approved: permanent for the message, and an operator must act.
CONFIG_CODES = frozenset({
    "FailedOperation.SignatureIncorrectOrUnapproved", "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.TemplateUnapprovedOrNotExist", "FailedOperation.MissingSignature",
})
# Nothing goes through until an operator acts (credentials, balance, account, daily caps).
OPERATOR_CODES = frozenset({
    "AuthFailure.SignatureFailure", "AuthFailure.SecretIdNotFound", "AuthFailure.SignatureExpire",
    "AuthFailure.InvalidSecretId", "AuthFailure.InvalidAuthorization", "AuthFailure.TokenFailure",
    "AuthFailure.UnauthorizedOperation", "AuthFailure.MFAFailure", "InternalError.RequestTimeException",
    "FailedOperation.InsufficientBalanceInSmsPackage", "InvalidParameterValue.SdkAppIdNotExist",
    "UnauthorizedOperation.RequestIpNotInWhitelist", "UnauthorizedOperation.RequestPermissionDeny",
    "UnauthorizedOperation.SdkAppIdIsDisabled", "UnauthorizedOperation.ServiceSuspendDueToArrears",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail", "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
    "LimitExceeded.AppDailyLimit", "LimitExceeded.AppGlobalDailyLimit", "LimitExceeded.AppMainlandChinaDailyLimit",
    "LimitExceeded.AppCountryOrRegionDailyLimit", "LimitExceeded.DailyLimit",
})
# Frequency limits (per number: 30 s, 1 h, 1 day, same content; whole account: requests/s).
THROTTLE_CODES = frozenset({
    "RequestLimitExceeded", "LimitExceeded.DeliveryFrequencyLimit", "LimitExceeded.PhoneNumberDailyLimit",
    "LimitExceeded.PhoneNumberOneHourLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit", "FailedOperation.MarketingSendTimeConstraint",
})
# The frequency limits of one number (30 s, 1 h, 1 day, same content): not the account's.
PER_NUMBER_LIMIT_CODES = frozenset({
    "LimitExceeded.DeliveryFrequencyLimit", "LimitExceeded.PhoneNumberDailyLimit",
    "LimitExceeded.PhoneNumberOneHourLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
})
# Treat like Twilio 21610 (opt-out): "手机号在免打扰名单库中，通常是用户退订…" at send time,
# and the carriers' blacklist receipt codes.
UNSUBSCRIBED_CODES = frozenset({"FailedOperation.PhoneNumberInBlacklist", "MBBLACK", "DBBLACK", "TDBLACK", "BLACK"})
# Receipt codes for a number that does not exist or is suspended (空号, 停机).
UNREACHABLE_CODES = frozenset({"MK:0001", "MK:0005", "MK:0013", "DB:0101", "DB:0102", "CB:0053",
                               "MI:0054", "MI:0059", "MI:0073", "MI:0210"})


def classify_code(code: str, message: str = "") -> TransportError:
    text = f"Tencent {code}: {message}"[:500]
    if code in PERMANENT_CODES:
        return TransportError(text, code, permanent=True)
    if code in CONFIG_CODES:
        return TransportError(text, code, permanent=True, operator=True)
    if code in OPERATOR_CODES or code.startswith("AuthFailure"):
        return TransportError(text, code, operator=True)
    if code in THROTTLE_CODES or code.startswith("RequestLimitExceeded"):
        return TransportError(text, code)
    # InternalError.Timeout / SendAndRecvFail and unknown codes: it may have gone out.
    return TransportError(text, code or "error", maybe_sent=True)


def classify_exception(exc: Exception) -> TransportError:
    code = str(getattr(exc, "code", "") or "")
    if code == "ServerNetworkError":
        return TransportError("Tencent HTTP error (non-200 answer)", "http_error", maybe_sent=True)
    if code == "ClientNetworkError" or not isinstance(exc, TencentCloudSDKException):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, requests.exceptions.ConnectTimeout):
            return TransportError("Tencent connect timeout", "timeout")
        if isinstance(cause, requests.exceptions.ReadTimeout):
            return TransportError("Tencent read timeout", "timeout", maybe_sent=True)
        if isinstance(cause, requests.exceptions.ConnectionError) and "NewConnectionError" in repr(cause):
            return TransportError("Tencent connection refused", "network")
        return TransportError(f"Tencent network error: {type(cause or exc).__name__}", "network", maybe_sent=True)
    return classify_code(code, str(getattr(exc, "message", "") or ""))


@dataclass(frozen=True)
class _Item:
    index: int
    message: OutgoingSms
    template: ProviderTemplate


class TencentTransport(Transport):
    name = "tencent"
    max_batch = MAX_NUMBERS_PER_SEND
    unsubscribed_codes = UNSUBSCRIBED_CODES
    unreachable_codes = UNREACHABLE_CODES
    per_number_limit_codes = PER_NUMBER_LIMIT_CODES
    throttle_codes = frozenset({"RequestLimitExceeded", "RequestLimitExceeded.UinLimitExceeded",
                                "RequestLimitExceeded.GlobalRegionUinLimitExceeded", "RequestLimitExceeded.IPLimitExceeded"})

    def __init__(self) -> None:
        secret_id, secret_key = settings.TENCENT_SECRET_ID, settings.TENCENT_SECRET_KEY
        self.app_id = settings.TENCENT_SMS_SDK_APP_ID
        if not secret_id or not secret_key or not self.app_id:
            raise ImproperlyConfigured("SMS_BACKEND is Tencent but TENCENT_SECRET_ID/KEY or TENCENT_SMS_SDK_APP_ID are not set.")
        self.sign = settings.TENCENT_SMS_SIGN_NAME
        if not self.sign:
            raise ImproperlyConfigured("Set TENCENT_SMS_SIGN_NAME (the approved sign).")
        protocol, host = _endpoint(settings.TENCENT_SMS_ENDPOINT)
        http = HttpProfile(protocol=protocol, endpoint=host, reqTimeout=float(settings.SMS_HTTP_TIMEOUT))
        self.client = SmsClient(credential.Credential(secret_id, secret_key), settings.TENCENT_SMS_REGION,
                                ClientProfile(httpProfile=http))
        connection = getattr(getattr(self.client, "request", None), "conn", None)
        if protocol == "http" and connection is not None:  # a loopback fake: never through a proxy
            connection.proxy = None

    # --- sending ----------------------------------------------------------------------------
    def send(self, *, to: str, body: str, status_callback: str | None = None,
             message: OutgoingSms | None = None) -> SendResult:
        """One message through send_batch(); without `message`, `body` goes as the sms.text
        template's variable (status_callback is unused: receipts come by pull or callback)."""
        outgoing = message or OutgoingSms(message_id=0, to=to, body=body, template="sms.text", params={"text": body})
        result = self.send_batch([outgoing])[0]
        if isinstance(result, TransportError):
            raise result
        return result

    def send_batch(self, messages: list[OutgoingSms]) -> list[SendResult | TransportError]:
        results: list[SendResult | TransportError | None] = [None] * len(messages)
        entries = provider_entries(PROVIDER)  # once per batch: merging the settings is not free
        groups: dict[tuple[str, str, tuple[tuple[str, str], ...], bool], list[_Item]] = {}
        for index, message in enumerate(messages):
            try:
                if not callbacks.E164.match(message.to or ""):
                    raise TransportError("not an E.164 number", "invalid_number", permanent=True)
                template = choose_template(PROVIDER, message, sign=self.sign, default_limit=VARIABLE_MAX_CHARS,
                                           entries=entries)
            except TransportError as exc:
                results[index] = exc
                continue
            key = (template.code, template.sign, template.values, message.to.startswith("+86"))
            groups.setdefault(key, []).append(_Item(index, message, template))
        for group in groups.values():
            for chunk in _chunks(group, MAX_NUMBERS_PER_SEND):
                for item, result in self._call(chunk):
                    results[item.index] = result
        return [r if r is not None else TransportError("not sent", "error") for r in results]

    def _call(self, items: list[_Item]) -> list[tuple[_Item, SendResult | TransportError]]:
        template = items[0].template
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [item.message.to for item in items]
        request.SmsSdkAppId = self.app_id
        request.TemplateId = template.code
        request.SignName = template.sign
        request.TemplateParamSet = template.positional()
        if len(items) == 1 and items[0].message.message_id:
            request.SessionContext = str(items[0].message.message_id)
        try:
            response = self.client.SendSms(request)
        except Exception as exc:  # noqa: BLE001 - TencentCloudSDKException, or anything the SDK let through: classified
            error = classify_exception(exc)
            return [(item, _copy(error)) for item in items]
        statuses = {str(s.PhoneNumber): s for s in (response.SendStatusSet or [])}
        results: list[tuple[_Item, SendResult | TransportError]] = []
        for item in items:
            status = statuses.get(item.message.to)
            if status is None:
                results.append((item, TransportError("Tencent gave no status for a number", "error", maybe_sent=True)))
            elif status.Code == OK and status.SerialNo:
                results.append((item, SendResult(sid=str(status.SerialNo), provider_status="sent")))
            else:
                results.append((item, classify_code(str(status.Code or ""), str(status.Message or ""))))
        return results

    # --- reconciling and pulling ----------------------------------------------------------
    def find_sent(self, *, to: str, body: str, since: datetime, exclude_sids: set[str],
                  message: OutgoingSms | None = None) -> SendResult | None:
        """A status record for `to` since `since` whose SessionContext is our message id
        (PullSmsSendStatusByPhoneNumber; only single-recipient sends carry one, and a record
        exists once the carrier reported). Otherwise None: the caller resends."""
        if message is None or not message.message_id:
            return None
        request = sms_models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int((since - timedelta(minutes=2)).timestamp())
        request.EndTime = int(timezone.now().timestamp()) + 60
        request.Offset, request.Limit = 0, PULL_LIMIT
        request.PhoneNumber, request.SmsSdkAppId = to, self.app_id
        try:
            response = self.client.PullSmsSendStatusByPhoneNumber(request)
        except Exception as exc:  # see _call
            raise classify_exception(exc) from exc
        for status in response.PullSmsSendStatusSet or []:
            if status.SessionContext == str(message.message_id) and status.SerialNo not in exclude_sids:
                return SendResult(sid=str(status.SerialNo), provider_status="sent")
        return None

    def pull_receipts(self) -> list[DeliveryReceipt]:
        receipts: list[DeliveryReceipt] = []
        for records in self._pull(sms_models.PullSmsSendStatusRequest, "PullSmsSendStatus", "PullSmsSendStatusSet"):
            for record in records:
                try:
                    receipts.append(_pulled_receipt(record))
                except CallbackError:
                    logger.warning("Tencent pulled receipt skipped: unreadable")
        return receipts

    def pull_replies(self) -> list[InboundReply]:
        replies: list[InboundReply] = []
        for records in self._pull(sms_models.PullSmsReplyStatusRequest, "PullSmsReplyStatus", "PullSmsReplyStatusSet"):
            for record in records:
                try:
                    replies.append(_pulled_reply(record))
                except CallbackError:
                    logger.warning("Tencent pulled reply skipped: unreadable")
        return replies

    def _pull(self, request_class: Any, action: str, field: str) -> list[list[Any]]:
        pages: list[list[Any]] = []
        for _ in range(PULL_ROUNDS):
            request = request_class()
            request.Limit, request.SmsSdkAppId = PULL_LIMIT, self.app_id
            try:
                response = getattr(self.client, action)(request)
            except Exception as exc:  # see _call
                raise classify_exception(exc) from exc
            page = list(getattr(response, field) or [])
            pages.append(page)
            if len(page) < PULL_LIMIT:
                break
        return pages


def _pulled_receipt(record: Any) -> DeliveryReceipt:
    phone = str(record.PhoneNumber or "") or callbacks.phone_from_parts(str(record.CountryCode or ""),
                                                                         str(record.SubscriberNumber or ""))
    if not callbacks.E164.match(phone):
        raise CallbackError("phone number is not valid", "bad_value")
    context = str(record.SessionContext or "")
    return DeliveryReceipt(
        sid=str(record.SerialNo or ""), phone=phone, status="delivered" if record.ReportStatus == "SUCCESS" else "undelivered",
        error_code=str(record.Description or ""), message_id=parse_id(context),
        at=callbacks.unix_time(record.UserReceiveTime))


def _pulled_reply(record: Any) -> InboundReply:
    phone = str(record.PhoneNumber or "") or callbacks.phone_from_parts(str(record.CountryCode or ""),
                                                                         str(record.SubscriberNumber or ""))
    if not callbacks.E164.match(phone):
        raise CallbackError("phone number is not valid", "bad_value")
    at = _reply_time(record.ReplyTime)
    content = str(record.ReplyContent or "")
    callbacks.check_strings(content)
    extend, sign = str(record.ExtendCode or ""), str(record.SignName or "")
    return InboundReply(sid=_reply_sid(phone, at, content, extend, sign), phone=phone, body=content, to=extend or sign, at=at)


def _reply_sid(phone: str, at: datetime | None, content: str, extend: str, sign: str) -> str:
    """The same reply gets the same sid whether pulled or called back."""
    moment = int(at.timestamp()) if at else ""
    return callbacks.stable_sid("tencent-up:", phone, moment, content, extend, sign)


def _reply_time(value: object) -> datetime | None:
    text = str(value or "")
    return callbacks.local_time(text) if "-" in text else callbacks.unix_time(text)


def _chunks(items: list[_Item], size: int) -> list[list[_Item]]:
    chunks: list[tuple[list[_Item], set[str]]] = []
    for item in items:
        target = next((c for c in chunks if len(c[0]) < size and item.message.to not in c[1]), None)
        if target is None:
            target = ([], set())
            chunks.append(target)
        target[0].append(item)
        target[1].add(item.message.to)
    return [chunk for chunk, _ in chunks]


def _copy(error: TransportError) -> TransportError:
    return TransportError(error.message, error.code, error.permanent, maybe_sent=error.maybe_sent, operator=error.operator)


def _endpoint(value: str) -> tuple[str, str]:
    """("https", "sms.tencentcloudapi.com") from a host name or a URL."""
    if "://" not in value:
        return "https", value.strip().rstrip("/")
    parts = urlsplit(value)
    return parts.scheme.lower(), parts.netloc


# --- callbacks ------------------------------------------------------------------------------
def parse_receipt_callback(body: bytes, headers: Mapping[str, str], *, query: Mapping[str, str] | None = None,
                           token: str | None = None) -> list[DeliveryReceipt]:
    """Status callback: a JSON array of {user_receive_time, nationcode, mobile, report_status
    (SUCCESS/FAIL), errmsg, description, sid}. Answer {"result": 0, "errmsg": "OK"}."""
    callbacks.check_token(query, settings.TENCENT_SMS_CALLBACK_TOKEN if token is None else token)
    receipts = []
    for record in callbacks.records(callbacks.read_json(body)):
        phone = callbacks.phone_from_parts(callbacks.text(record, "nationcode", max_len=4),
                                           callbacks.text(record, "mobile", max_len=20))
        status = callbacks.text(record, "report_status", max_len=16)
        if status not in ("SUCCESS", "FAIL"):
            raise CallbackError("report_status is not SUCCESS/FAIL", "bad_value")
        context = callbacks.text(record, "session_context", required=False, max_len=512)
        receipts.append(DeliveryReceipt(
            sid=callbacks.text(record, "sid", max_len=64), phone=phone,
            status="delivered" if status == "SUCCESS" else "undelivered",
            error_code=callbacks.text(record, "errmsg", required=False, max_len=64),
            message_id=parse_id(context),
            at=callbacks.local_time(callbacks.text(record, "user_receive_time", required=False, max_len=32)),
        ))
    return receipts


def parse_reply_callback(body: bytes, headers: Mapping[str, str], *, query: Mapping[str, str] | None = None,
                         token: str | None = None) -> list[InboundReply]:
    """Reply callback: one JSON object (an array is accepted too) {extend, mobile, nationcode,
    sign, text, time}. Tencent gives no id: the sid is a hash of sender, time, text and
    destination, so a redelivered callback de-duplicates."""
    callbacks.check_token(query, settings.TENCENT_SMS_CALLBACK_TOKEN if token is None else token)
    replies = []
    for record in callbacks.records(callbacks.read_json(body), allow_single=True):
        phone = callbacks.phone_from_parts(callbacks.text(record, "nationcode", max_len=4),
                                           callbacks.text(record, "mobile", max_len=20))
        content = callbacks.text(record, "text", required=False)
        at = callbacks.unix_time(record.get("time"))
        extend = callbacks.text(record, "extend", required=False, max_len=32)
        sign = callbacks.text(record, "sign", required=False, max_len=64)
        replies.append(InboundReply(sid=_reply_sid(phone, at, content, extend, sign), phone=phone, body=content,
                                    to=extend or sign, at=at))
    return replies
