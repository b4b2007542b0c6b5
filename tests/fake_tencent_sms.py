"""A fake of Tencent Cloud SMS (API 2021-01-11): a real HTTP server on loopback, in a thread.

The REAL SDK (tencentcloud-sdk-python-sms) talks to it: POST / with a JSON body, the action
in X-TC-Action, signed TC3-HMAC-SHA256 — the fake checks the signature with its own secret key,
so a wrong key is refused as Tencent refuses it (AuthFailure.SignatureFailure; an unknown
SecretId: AuthFailure.SecretIdNotFound; a clock off by 5 minutes: AuthFailure.SignatureExpire).
Answers have Tencent's shapes: {"Response": {"SendStatusSet": [...], "RequestId": ...}}, errors
as HTTP 200 {"Response": {"Error": {"Code", "Message"}, "RequestId"}}.

    def test_something(fake_tencent_sms):
        fake_tencent_sms.script("throttle", "ok")                 # next calls
        fake_tencent_sms.fail_to("+8613900000009", "FailedOperation.PhoneNumberInBlacklist")
        fake_tencent_sms.undeliverable("+8613900000008", "MK:0001")
        fake_tencent_sms.reply("+8613900000001", "1")            # for PullSmsReplyStatus
        ... send ... transport.pull_receipts() ...

Scripted answers (per call, in order): "ok", "throttle" (RequestLimitExceeded), "500", "503"
(non-200: the SDK raises ServerNetworkError), a Tencent code for the whole call (e.g.
"FailedOperation.InsufficientBalanceInSmsPackage", "InternalError.Timeout"), ("delay", seconds)
then OK, "accept_then_500". fail_to(phone, code) answers that code in the number's SendStatus
(the others go out). set_rate_limit(calls_per_second=, messages_per_second=): calls over the
first answer RequestLimitExceeded, numbers over the second LimitExceeded.DeliveryFrequencyLimit.
Receipts and replies wait for PullSmsSendStatus / PullSmsReplyStatus (handed out once), or are
built as callback bodies by report_body() / reply_body(); post() sends one to a URL.

Run standalone (`python tests/fake_tencent_sms.py`) it prints its base URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.loopback import LoopbackFake

SECRET_ID = "AKIDfakeLinliTencent0000000000000000"
SECRET_KEY = "fake-tencent-secret-key-0123456789"
SDK_APP_ID = "1400000001"
SIGN_NAME = "邻里"
CALLBACK_TOKEN = "fake-tencent-callback-token"
BEIJING = ZoneInfo("Asia/Shanghai")
_AUTH = re.compile(r"^TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
                   r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def template_ids() -> dict[str, dict[str, str]]:
    """An approved Tencent template ID for every variant of every Linli SMS template."""
    from notifications.transports.provider_templates import SMS_TEMPLATE_PARAMS

    return {name: {variant: str(2100000 + n * 10 + i)
                   for i, variant in enumerate(("zh-hans", "en", "zh-hans.drill", "en.drill"))}
            for n, name in enumerate(sorted(SMS_TEMPLATE_PARAMS))}


@dataclass
class RecordedCall:
    action: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeSms:
    serial_no: str
    phone: str  # E.164
    template_id: str
    sign: str
    params: list[str]
    session_context: str
    sent_at: datetime
    description: str = "DELIVRD"


class FakeTencentSms(LoopbackFake):
    thread_name = "fake-tencent-sms"

    def __init__(self, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY, sdk_app_id: str = SDK_APP_ID):
        self.secret_id, self.secret_key, self.sdk_app_id = secret_id, secret_key, sdk_app_id
        self.signs = {SIGN_NAME}
        self.templates: set[str] | None = None  # approved template IDs; None: any
        self.variable_limit = 6
        self.messages: list[FakeSms] = []  # accepted, one per number
        self.calls: list[RecordedCall] = []  # every authenticated call
        self.rejected_signatures = 0
        self._pending_receipts: deque[FakeSms] = deque()
        self._pending_replies: deque[dict[str, Any]] = deque()
        self._fail_to: dict[str, str] = {}
        self._undeliverable: dict[str, str] = {}
        self.calls_per_second: float | None = None
        self.messages_per_second: float | None = None
        self._recent_calls: deque[float] = deque()
        self._recent_messages: deque[float] = deque()
        self._random = random.Random(13)
        super().__init__()

    # --- control ------------------------------------------------------------------------

    def fail_to(self, phone: str, code: str) -> None:
        """This number's SendStatus answers `code`; the other numbers of the call go out."""
        self._fail_to[phone] = code

    def undeliverable(self, phone: str, description: str) -> None:
        """Messages to `phone` are accepted; their receipt says FAIL with this code."""
        self._undeliverable[phone] = description

    def set_rate_limit(self, *, calls_per_second: float | None = None, messages_per_second: float | None = None) -> None:
        self.calls_per_second, self.messages_per_second = calls_per_second, messages_per_second

    def sent_to(self, phone: str) -> list[FakeSms]:
        return [m for m in self.messages if m.phone == phone]

    def actions(self) -> list[str]:
        return [call.action for call in self.calls]

    def reply(self, phone: str, text: str, *, extend: str = "", sign: str = SIGN_NAME, at: datetime | None = None) -> None:
        """A person texts us: waits for PullSmsReplyStatus."""
        moment = at or datetime.now(UTC).replace(microsecond=0)
        with self._lock:
            self._pending_replies.append({
                "ExtendCode": extend, "CountryCode": phone[1:3] if phone.startswith("+86") else phone[1:-10],
                "PhoneNumber": phone, "SignName": sign, "ReplyContent": text, "ReplyTime": int(moment.timestamp()),
                "SubscriberNumber": phone[-11:] if phone.startswith("+86") else phone[-10:]})

    # --- callback bodies ----------------------------------------------------------------
    def report_body(self, messages: list[FakeSms] | None = None) -> bytes:
        """The status callback Tencent posts (those given, or every accepted message)."""
        chosen = messages if messages is not None else list(self.messages)
        return json.dumps([{
            "user_receive_time": (m.sent_at + timedelta(seconds=3)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "nationcode": "86" if m.phone.startswith("+86") else m.phone[1:-10], "mobile": _national(m.phone),
            "report_status": "SUCCESS" if m.description == "DELIVRD" else "FAIL", "errmsg": m.description,
            "description": "用户短信送达成功" if m.description == "DELIVRD" else "用户短信未送达", "sid": m.serial_no,
        } for m in chosen], ensure_ascii=False).encode()

    @staticmethod
    def reply_body(phone: str, text: str, *, extend: str = "", sign: str = SIGN_NAME, at: datetime | None = None) -> bytes:
        """The reply callback Tencent posts: one object."""
        moment = at or datetime.now(UTC)
        return json.dumps({"extend": extend, "mobile": _national(phone),
                           "nationcode": "86" if phone.startswith("+86") else phone[1:-10], "sign": sign, "text": text,
                           "time": int(moment.timestamp())}, ensure_ascii=False).encode()

    @staticmethod
    def post(url: str, body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()

    # --- behaviour ----------------------------------------------------------------------
    def _next_answer(self) -> Any:
        with self._lock:
            if self._script:
                return self._script.popleft()
            now = time.monotonic()
            while self._recent_calls and now - self._recent_calls[0] >= 1.0:
                self._recent_calls.popleft()
            if self.calls_per_second is not None and len(self._recent_calls) + 1 > self.calls_per_second:
                return "throttle"
            self._recent_calls.append(now)
            return "ok"

    def _number_allowed(self) -> bool:
        now = time.monotonic()
        while self._recent_messages and now - self._recent_messages[0] >= 1.0:
            self._recent_messages.popleft()
        if self.messages_per_second is not None and len(self._recent_messages) + 1 > self.messages_per_second:
            return False
        self._recent_messages.append(now)
        return True

    def _send(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        numbers = params.get("PhoneNumberSet") or []
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return _error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not exist.")
        if not isinstance(numbers, list) or not numbers:
            return _error("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty.")
        if len(numbers) > 200:
            return _error("LimitExceeded.PhoneNumberCountLimit", "More than 200 numbers.")
        if len({str(n).startswith("+86") for n in numbers}) > 1:
            return _error("UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", "Mixed numbers.")
        if params.get("SignName") not in self.signs:
            return _error("FailedOperation.SignatureIncorrectOrUnapproved", "Sign not approved.")
        if self.templates is not None and params.get("TemplateId") not in self.templates:
            return _error("FailedOperation.TemplateIncorrectOrUnapproved", "Template not approved.")
        values = params.get("TemplateParamSet") or []
        if any(not isinstance(v, str) or len(v) > self.variable_limit for v in values):
            return _error("InvalidParameterValue.TemplateParameterLengthLimit", "A template variable is too long.")
        answer = self._next_answer()
        if isinstance(answer, tuple) and answer[0] == "delay":
            time.sleep(answer[1])
            answer = "ok"
        if answer not in ("ok", "accept_then_500"):
            return _failure(str(answer))
        statuses = [self._one(str(n), params) for n in numbers]
        if answer == "accept_then_500":
            return 500, {}
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}

    def _one(self, phone: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            code = self._fail_to.get(phone, "")
            if not code and not _E164.match(phone):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            if not code and not self._number_allowed():
                code = "LimitExceeded.DeliveryFrequencyLimit"
            if code:
                return {"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": params.get("SessionContext", ""),
                        "Code": code, "Message": code, "IsoCode": "CN"}
            sms = FakeSms(serial_no=f"2433:{self._random.randrange(10**20, 10**21)}", phone=phone,
                          template_id=str(params.get("TemplateId")), sign=str(params.get("SignName")),
                          params=list(params.get("TemplateParamSet") or []),
                          session_context=str(params.get("SessionContext") or ""),
                          sent_at=datetime.now(UTC).replace(microsecond=0),
                          description=self._undeliverable.get(phone, "DELIVRD"))
            self.messages.append(sms)
            self._pending_receipts.append(sms)
        return {"SerialNo": sms.serial_no, "PhoneNumber": phone, "Fee": 1, "SessionContext": sms.session_context,
                "Code": "Ok", "Message": "send success", "IsoCode": "CN"}

    def _pull_status(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        limit = max(1, min(100, int(params.get("Limit") or 10)))
        with self._lock:
            taken = [self._pending_receipts.popleft() for _ in range(min(limit, len(self._pending_receipts)))]
        return _ok({"PullSmsSendStatusSet": [_status_record(m) for m in taken]})

    def _pull_status_by_phone(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        begin, end = int(params.get("BeginTime") or 0), int(params.get("EndTime") or 2**40)
        found = [m for m in self.messages if m.phone == params.get("PhoneNumber")
                 and begin <= int(m.sent_at.timestamp()) <= end]
        offset, limit = int(params.get("Offset") or 0), max(1, min(100, int(params.get("Limit") or 10)))
        return _ok({"PullSmsSendStatusSet": [_status_record(m) for m in found[offset:offset + limit]]})

    def _pull_replies(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        limit = max(1, min(100, int(params.get("Limit") or 10)))
        with self._lock:
            taken = [self._pending_replies.popleft() for _ in range(min(limit, len(self._pending_replies)))]
        return _ok({"PullSmsReplyStatusSet": taken})

    # --- authentication (TC3-HMAC-SHA256, as tencentcloud-sdk-python-common signs) ---------
    def _authenticate(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]] | None:
        match = _AUTH.match(headers.get("authorization", ""))
        if not match:
            return _error("AuthFailure.InvalidAuthorization", "Authorization header is not TC3-HMAC-SHA256.")
        secret_id, date, service, signed_headers, signature = match.groups()
        if secret_id != self.secret_id:
            return _error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        timestamp = int(headers.get("x-tc-timestamp") or 0)
        if abs(time.time() - timestamp) > 300:
            return _error("AuthFailure.SignatureExpire", "Signature expired.")
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers.split(";"))
        canonical = f"POST\n/\n\n{canonical_headers}\n{signed_headers}\n{hashlib.sha256(body).hexdigest()}"
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = _hmac(_hmac(_hmac(("TC3" + self.secret_key).encode(), date), service), "tc3_request")
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
            with self._lock:
                self.rejected_signatures += 1
            return _error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode() if status == 200 else b"<html>Server Error</html>"
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status == 200 else "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                denied = fake._authenticate(headers, body)
                if denied:
                    return self._answer(*denied)
                try:
                    params = json.loads(body or b"{}")
                except ValueError:
                    return self._answer(*_error("FailedOperation.JsonParseFail", "Body is not JSON."))
                action = headers.get("x-tc-action", "")
                with fake._lock:
                    fake.calls.append(RecordedCall(action, params, headers))
                routes = {"SendSms": fake._send, "PullSmsSendStatus": fake._pull_status,
                          "PullSmsReplyStatus": fake._pull_replies,
                          "PullSmsSendStatusByPhoneNumber": fake._pull_status_by_phone}
                route = routes.get(action)
                if route is None:
                    return self._answer(*_error("InvalidAction", f"{action} does not exist."))
                return self._answer(*route(params))

        return Handler


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _national(phone: str) -> str:
    return phone[3:] if phone.startswith("+86") else phone[-10:]


def _status_record(m: FakeSms) -> dict[str, Any]:
    return {"UserReceiveTime": int(m.sent_at.timestamp()) + 3, "CountryCode": "86" if m.phone.startswith("+86") else "",
            "SubscriberNumber": _national(m.phone), "PhoneNumber": m.phone, "SerialNo": m.serial_no,
            "ReportStatus": "SUCCESS" if m.description == "DELIVRD" else "FAIL", "Description": m.description,
            "SessionContext": m.session_context}


def _ok(fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"Response": {**fields, "RequestId": str(uuid.uuid4())}}


def _error(code: str, message: str) -> tuple[int, dict[str, Any]]:
    return 200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}}


def _failure(answer: str) -> tuple[int, dict[str, Any]]:
    if answer == "throttle":
        return _error("RequestLimitExceeded", "Your current request times equals to `3000` in a second.")
    if answer in ("500", "503"):
        return int(answer), {}
    return _error(answer, answer)


@pytest.fixture
def fake_tencent_sms(settings: Any) -> Any:
    """A running fake, with the app's SMS backend pointed at it through the official SDK."""
    fake = FakeTencentSms().start()
    ids = template_ids()
    fake.templates = {tid for variants in ids.values() for tid in variants.values()}
    settings.SMS_BACKEND = "notifications.transports.tencent.TencentTransport"
    settings.TENCENT_SECRET_ID = fake.secret_id
    settings.TENCENT_SECRET_KEY = fake.secret_key
    settings.TENCENT_SMS_SDK_APP_ID = fake.sdk_app_id
    settings.TENCENT_SMS_SIGN_NAME = SIGN_NAME
    settings.TENCENT_SMS_REGION = "ap-guangzhou"
    settings.TENCENT_SMS_ENDPOINT = fake.base_url
    settings.TENCENT_SMS_CALLBACK_TOKEN = CALLBACK_TOKEN
    settings.SMS_HTTP_TIMEOUT = 5.0
    settings.SMS_PROVIDER_TEMPLATES = {**settings.SMS_PROVIDER_TEMPLATES, "tencent": ids}
    yield fake
    fake.stop()


if __name__ == "__main__":  # run standalone: python tests/fake_tencent_sms.py  (prints its base URL)
    import sys

    server = FakeTencentSms().start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        server.stop()
