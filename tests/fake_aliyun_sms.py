"""A fake of Alibaba Cloud SMS (dysmsapi 2017-05-25): a real HTTP server on loopback, in a thread.

The REAL SDK (alibabacloud_dysmsapi20170525) talks to it: RPC-style POST / with the action in
x-acs-action and the parameters in the query string (SendSms, QuerySendDetails) or a form body
(SendBatchSms), signed ACS3-HMAC-SHA256 — the fake checks the signature with its own secret,
so a wrong key is refused the way Aliyun refuses it (400 SignatureDoesNotMatch, 404
InvalidAccessKeyId.NotFound). Answers have Aliyun's shapes: {"Code": "OK", "BizId": ...}, a
business error as HTTP 200 with another Code, QuerySendDetails' SmsSendDetailDTOs.

    def test_something(fake_aliyun_sms):
        fake_aliyun_sms.script("throttle", "ok")            # next calls: Throttling.User, then OK
        fake_aliyun_sms.fail_to("+8613900000009", "isv.MOBILE_NUMBER_ILLEGAL")
        fake_aliyun_sms.undeliverable("+8613900000008", "MK:0001")   # accepted, receipt fails
        ... send ...
        fake_aliyun_sms.calls[-1].action, .params             # what the SDK sent
        parse_receipt_callback(fake_aliyun_sms.report_body(), {}, query={"token": CALLBACK_TOKEN})

Scripted answers (per call, in order): "ok", "throttle" (400 Throttling.User), "500", "503",
an Aliyun code such as "isv.AMOUNT_NOT_ENOUGH" (HTTP 200 body), ("delay", seconds) then OK,
"accept_then_500" (stored, but the client sees a 500). fail_to(phone, code) fails every call
that includes the number, as Aliyun fails the whole call. set_rate_limit(calls_per_second=,
messages_per_second=) answers Throttling.User past either (for benchmarks). Template codes
outside `templates`, signs outside `signs` and variables over `variable_limit` characters are
refused like Aliyun refuses them. Aliyun has no pull API for receipts or replies (HTTP push):
report_body() and reply_body() build the pushed JSON, post() sends it to a URL.

Run standalone (`python tests/fake_aliyun_sms.py [--messages-per-second N] [--calls-per-second N]`)
it prints its base URL; GET /__fake__/recorded (no signature, loopback) lists what it accepted
and how many calls it throttled (benchmarks read it).
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
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.loopback import LoopbackFake

ACCESS_KEY_ID = "LTAI5tFakeLinli0000000000"
ACCESS_KEY_SECRET = "fake-aliyun-access-key-secret-0123"
SIGN_NAME = "邻里"
CALLBACK_TOKEN = "fake-aliyun-callback-token"
BEIJING = ZoneInfo("Asia/Shanghai")
_AUTH = re.compile(r"^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$")
_MAINLAND = re.compile(r"^1[3-9]\d{9}$")


def template_codes() -> dict[str, dict[str, str]]:
    """An approved Aliyun template code for every variant of every Linli SMS template."""
    from notifications.transports.provider_templates import SMS_TEMPLATE_PARAMS

    codes: dict[str, dict[str, str]] = {}
    for n, name in enumerate(sorted(SMS_TEMPLATE_PARAMS)):
        codes[name] = {variant: f"SMS_{4700000 + n * 10 + i}"
                       for i, variant in enumerate(("zh-hans", "en", "zh-hans.drill", "en.drill"))}
    return codes


def aliyun_phone(phone: str) -> str:
    phone = phone.strip()
    if phone.startswith("+86"):
        return phone[3:]
    return phone.lstrip("+")


@dataclass
class RecordedCall:
    action: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeSms:
    biz_id: str
    phone: str  # Aliyun's format (11 digits for the mainland)
    template_code: str
    sign: str
    params: dict[str, str]
    out_id: str
    sent_at: datetime
    err_code: str = "DELIVERED"
    reported: bool = False
    accepted_at: float = field(default_factory=time.time)

    @property
    def content(self) -> str:
        return f"【{self.sign}】{self.template_code} " + " ".join(f"{k}={v}" for k, v in self.params.items())


class FakeAliyunSms(LoopbackFake):
    thread_name = "fake-aliyun-sms"

    def __init__(self, access_key_id: str = ACCESS_KEY_ID, access_key_secret: str = ACCESS_KEY_SECRET):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.signs = {SIGN_NAME}
        self.templates: set[str] | None = None  # approved template codes; None: any
        self.variable_limit = 35
        self.messages: list[FakeSms] = []  # accepted, one per number
        self.calls: list[RecordedCall] = []  # every authenticated call
        self.rejected_signatures = 0
        self.throttled = 0  # calls refused for going over set_rate_limit()
        self._fail_to: dict[str, str] = {}
        self._undeliverable: dict[str, str] = {}
        self.calls_per_second: float | None = None
        self.messages_per_second: float | None = None
        self._recent_calls: deque[float] = deque()
        self._recent_messages: deque[tuple[float, int]] = deque()
        self._random = random.Random(11)
        super().__init__()

    # --- control ------------------------------------------------------------------------

    def fail_to(self, phone: str, code: str) -> None:
        """Every call that includes `phone` fails with this code (Aliyun fails the whole call)."""
        self._fail_to[aliyun_phone(phone)] = code

    def undeliverable(self, phone: str, err_code: str) -> None:
        """Messages to `phone` are accepted; their receipt says err_code, success false."""
        self._undeliverable[aliyun_phone(phone)] = err_code

    def set_rate_limit(self, *, calls_per_second: float | None = None, messages_per_second: float | None = None) -> None:
        self.calls_per_second, self.messages_per_second = calls_per_second, messages_per_second

    def sent_to(self, phone: str) -> list[FakeSms]:
        return [m for m in self.messages if m.phone == aliyun_phone(phone)]

    def actions(self) -> list[str]:
        return [call.action for call in self.calls]

    def recorded(self) -> dict[str, Any]:
        """What a benchmark reads: every accepted message, the calls made and throttled."""
        with self._lock:
            return {"messages": [{"phone": m.phone, "template_code": m.template_code, "params": m.params,
                                  "accepted_at": m.accepted_at} for m in self.messages],
                    "calls": len(self.calls), "throttled": self.throttled}

    # --- what Aliyun pushes -------------------------------------------------------------
    def report_body(self, messages: list[FakeSms] | None = None) -> bytes:
        """SmsReport as Aliyun pushes it: receipts not pushed before (or those given)."""
        with self._lock:
            chosen = messages if messages is not None else [m for m in self.messages if not m.reported]
            for m in chosen:
                m.reported = True
        return json.dumps([{
            "phone_number": m.phone, "send_time": _stamp(m.sent_at), "report_time": _stamp(m.sent_at + timedelta(seconds=3)),
            "success": m.err_code == "DELIVERED", "err_code": m.err_code,
            "err_msg": "用户接收成功" if m.err_code == "DELIVERED" else "失败", "sms_size": "1", "biz_id": m.biz_id,
            "out_id": m.out_id,
        } for m in chosen], ensure_ascii=False).encode()

    def reply_body(self, phone: str, content: str, *, dest_code: str = "1234", sign: str = SIGN_NAME,
                   sequence_id: int | None = None) -> bytes:
        """SmsUp as Aliyun pushes it: one reply from `phone`."""
        return json.dumps([{
            "phone_number": aliyun_phone(phone), "send_time": _stamp(datetime.now(BEIJING)), "content": content,
            "sign_name": sign, "dest_code": dest_code,
            "sequence_id": sequence_id if sequence_id is not None else self._random.randrange(10**9, 10**10),
        }], ensure_ascii=False).encode()

    @staticmethod
    def post(url: str, body: bytes) -> tuple[int, bytes]:
        """POST a pushed body to a callback URL (a live test server), as Aliyun would."""
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()

    # --- behaviour ----------------------------------------------------------------------
    def _next_answer(self, numbers: list[str]) -> Any:
        with self._lock:
            for number in numbers:
                if number in self._fail_to:
                    return self._fail_to[number]
            if self._script:
                return self._script.popleft()
            if self._over_rate(len(numbers)):
                return "throttle"
            return "ok"

    def _over_rate(self, count: int) -> bool:
        now = time.monotonic()
        while self._recent_calls and now - self._recent_calls[0] >= 1.0:
            self._recent_calls.popleft()
        while self._recent_messages and now - self._recent_messages[0][0] >= 1.0:
            self._recent_messages.popleft()
        sent = sum(n for _, n in self._recent_messages)
        if (self.calls_per_second is not None and len(self._recent_calls) + 1 > self.calls_per_second) or (
                self.messages_per_second is not None and sent + count > self.messages_per_second):
            self.throttled += 1
            return True
        self._recent_calls.append(now)
        self._recent_messages.append((now, count))
        return False

    def _send(self, action: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if action == "SendSms":
            numbers = [n for n in params.get("PhoneNumbers", "").split(",") if n]
            signs = [params.get("SignName", "")] * len(numbers)
            values = [params["TemplateParam"]] * len(numbers) if params.get("TemplateParam") else [None] * len(numbers)
            limit = 1000
        else:
            try:
                numbers = json.loads(params.get("PhoneNumberJson", "[]"))
                signs = json.loads(params.get("SignNameJson", "[]"))
                raw = params.get("TemplateParamJson")
                values = [json.dumps(v, ensure_ascii=False) for v in json.loads(raw)] if raw else [None] * len(numbers)
            except (ValueError, TypeError):
                return _business("isv.INVALID_JSON_PARAM")
            limit = 100
            if not (len(numbers) == len(signs) == len(values)):
                return _business("isv.INVALID_PARAMETERS")
        if not numbers:
            return _business("isv.INVALID_PARAMETERS")
        if len(numbers) > limit:
            return _business("isv.MOBILE_COUNT_OVER_LIMIT")
        problem = self._check(params.get("TemplateCode", ""), numbers, signs, values)
        if problem:
            return _business(problem)
        answer = self._next_answer(numbers)
        if isinstance(answer, tuple) and answer[0] == "delay":
            time.sleep(answer[1])
            answer = "ok"
        if answer in ("ok", "accept_then_500"):
            biz_id = self._store(params, numbers, signs, values)
            if answer == "ok":
                return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": _request_id()}
        return _failure(str(answer))

    def _check(self, template: str, numbers: list[str], signs: list[str], values: list[str | None]) -> str:
        if any(not (_MAINLAND.match(str(n)) or re.match(r"^[1-9]\d{7,14}$", str(n))) for n in numbers):
            return "isv.MOBILE_NUMBER_ILLEGAL"
        if any(sign not in self.signs for sign in signs):
            return "isv.SMS_SIGNATURE_ILLEGAL"
        if self.templates is not None and template not in self.templates:
            return "isv.SMS_TEMPLATE_ILLEGAL"
        for raw in values:
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError:
                return "isv.INVALID_JSON_PARAM"
            if not isinstance(parsed, dict) or any(not isinstance(v, str) for v in parsed.values()):
                return "isv.INVALID_JSON_PARAM"
            if any(len(v) > self.variable_limit for v in parsed.values()):
                return "isv.PARAM_LENGTH_LIMIT"
            if any(v == "" for v in parsed.values()):
                return "isv.TEMPLATE_MISSING_PARAMETERS"
        return ""

    def _store(self, params: dict[str, str], numbers: list[str], signs: list[str], values: list[str | None]) -> str:
        biz_id = f"{self._random.randrange(10**14, 10**15)}^0"
        now = datetime.now(BEIJING).replace(microsecond=0)
        with self._lock:
            for number, sign, raw in zip(numbers, signs, values, strict=True):
                self.messages.append(FakeSms(
                    biz_id=biz_id, phone=str(number), template_code=params.get("TemplateCode", ""), sign=sign,
                    params=json.loads(raw) if raw else {}, out_id=params.get("OutId", ""), sent_at=now,
                    err_code=self._undeliverable.get(str(number), "DELIVERED")))
        return biz_id

    def _query(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        phone, day = params.get("PhoneNumber", ""), params.get("SendDate", "")
        if not phone or not re.match(r"^\d{8}$", day):
            return _business("isv.INVALID_PARAMETERS")
        size = max(1, min(50, int(params.get("PageSize") or 10)))
        page = max(1, int(params.get("CurrentPage") or 1))
        with self._lock:
            found = [m for m in reversed(self.messages) if m.phone == phone and m.sent_at.strftime("%Y%m%d") == day
                     and (not params.get("BizId") or m.biz_id == params["BizId"])]
        chunk = found[(page - 1) * size : page * size]
        return 200, {"Code": "OK", "Message": "OK", "RequestId": _request_id(), "TotalCount": len(found),
                     "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{
                         "PhoneNum": m.phone, "SendStatus": 3 if m.err_code == "DELIVERED" else 2, "ErrCode": m.err_code,
                         "TemplateCode": m.template_code, "Content": m.content, "SendDate": _stamp(m.sent_at),
                         "ReceiveDate": _stamp(m.sent_at + timedelta(seconds=3)), "OutId": m.out_id,
                     } for m in chunk]}}

    # --- authentication (ACS3-HMAC-SHA256, as alibabacloud_tea_openapi signs) ---------------
    def _authenticate(self, method: str, path: str, raw_query: str, headers: dict[str, str],
                      body: bytes) -> tuple[int, dict[str, Any]] | None:
        match = _AUTH.match(headers.get("authorization", ""))
        if not match:
            return _error(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        key_id, signed_headers, signature = match.groups()
        if key_id != self.access_key_id:
            return _error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash:
            return _error(400, "IncompleteSignature", "The payload hash does not match.")
        pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
        canonical_query = "&".join(f"{k}={quote(v, safe='~')}" for k, v in pairs)
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers.split(";"))
        canonical = f"{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(self.access_key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            with self._lock:
                self.rejected_signatures += 1
            return _error(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if urlsplit(self.path).path == "/__fake__/recorded":
                    return self._answer(200, fake.recorded())
                return self._answer(404, {"Code": "NotFound"})

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                denied = fake._authenticate("POST", url.path or "/", url.query, headers, body)
                if denied:
                    return self._answer(*denied)
                params = dict(parse_qsl(url.query, keep_blank_values=True))
                if body and "x-www-form-urlencoded" in headers.get("content-type", ""):
                    params.update(parse_qsl(body.decode(), keep_blank_values=True))
                action = headers.get("x-acs-action") or params.get("Action", "")
                with fake._lock:
                    fake.calls.append(RecordedCall(action, params, headers))
                if action in ("SendSms", "SendBatchSms"):
                    return self._answer(*fake._send(action, params))
                if action == "QuerySendDetails":
                    return self._answer(*fake._query(params))
                return self._answer(*_error(404, "InvalidAction.NotFound", f"Specified api {action} is not found."))

        return Handler


def _stamp(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _business(code: str) -> tuple[int, dict[str, Any]]:
    return 200, {"Code": code, "Message": code, "RequestId": _request_id()}


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"RequestId": _request_id(), "HostId": "dysmsapi.aliyuncs.com", "Code": code, "Message": message,
                    "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}"}


def _failure(answer: str) -> tuple[int, dict[str, Any]]:
    if answer == "throttle":
        return _error(400, "Throttling.User", "Request was denied due to user flow control.")
    if answer in ("500", "accept_then_500"):
        return _error(500, "InternalError", "The request processing has failed due to some unknown error.")
    if answer == "503":
        return _error(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
    return _business(answer)


@pytest.fixture
def fake_aliyun_sms(settings: Any) -> Any:
    """A running fake, with the app's SMS backend pointed at it through the official SDK."""
    fake = FakeAliyunSms().start()
    codes = template_codes()
    fake.templates = {code for variants in codes.values() for code in variants.values()}
    settings.SMS_BACKEND = "notifications.transports.aliyun.AliyunTransport"
    settings.ALIYUN_ACCESS_KEY_ID = fake.access_key_id
    settings.ALIYUN_ACCESS_KEY_SECRET = fake.access_key_secret
    settings.ALIYUN_SMS_SIGN_NAME = SIGN_NAME
    settings.ALIYUN_SMS_ENDPOINT = fake.base_url
    settings.ALIYUN_SMS_CALLBACK_TOKEN = CALLBACK_TOKEN
    settings.SMS_HTTP_TIMEOUT = 5.0
    settings.SMS_PROVIDER_TEMPLATES = {**settings.SMS_PROVIDER_TEMPLATES, "aliyun": codes}
    yield fake
    fake.stop()


if __name__ == "__main__":  # run standalone: python tests/fake_aliyun_sms.py  (prints its base URL)
    import argparse
    import sys

    options = argparse.ArgumentParser(description="A fake Alibaba Cloud SMS server on loopback.")
    options.add_argument("--messages-per-second", type=float, default=None)
    options.add_argument("--calls-per-second", type=float, default=None)
    arguments = options.parse_args()
    server = FakeAliyunSms()
    server.set_rate_limit(calls_per_second=arguments.calls_per_second, messages_per_second=arguments.messages_per_second)
    server.start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        server.stop()
