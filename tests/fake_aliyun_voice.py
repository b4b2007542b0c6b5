"""A fake of Alibaba Cloud Voice Service (dyvms 2017-05-25) IvrCall and SingleCallByTts, and of
its receipt pushes: a real HTTP server on loopback that the REAL SDK talks to (the SDK's
Config takes endpoint "127.0.0.1:port" and protocol "http": ALIYUN_VOICE_ENDPOINT/_PROTOCOL).

Every request's ACS3-HMAC-SHA256 signature is checked with the fake's own secret (a wrong
secret or a replayed nonce is refused, as Aliyun would), the call recorded with its decoded
parameters, and errors answered in Aliyun's shapes: isv.* codes with HTTP 400, isp.SYSTEM_ERROR
with 500 (per the dyvms error-code reference), or HTTP 200 with a non-OK Code (the classic
shape), so both paths are exercised.

    def test_something(fake_aliyun_voice, client):
        fake_aliyun_voice.script("isv.BUSINESS_LIMIT_CONTROL", "ok")
        fake_aliyun_voice.fail_to("13900000009", "isv.MOBILE_NUMBER_ILLEGAL")
        ... place a call ...
        call = fake_aliyun_voice.calls[-1]            # {"call_id", "action", "params", ...}
        fake_aliyun_voice.simulate_call(call["call_id"], "answered", digits="1", post=via_client(client))

Outcomes: "answered" (with digits: pressed; without: listened to the end, no key), "hangup"
(picked up, hung up before any key), "no-answer", "busy", "invalid" (number does not exist),
"powered-off". receipts() returns the JSON arrays a call would push (VoiceCallReport progress
and dtmf, then the VoiceReport record) without posting them. Scripted create answers: "ok",
an Aliyun code ("isv.MOBILE_NUMBER_ILLEGAL", "isv.BUSINESS_LIMIT_CONTROL", ...), "500",
("http200", code), ("delay", seconds), "accept_then_500". flow_control=True enforces the
documented per-callee limit of one call a minute.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.loopback import LoopbackFake

ACCESS_KEY_ID = "LTAIfakevoice0001"
ACCESS_KEY_SECRET = "fake-aliyun-voice-secret-0123456789"
SHOW_NUMBER = "057188880000"
CALLBACK_TOKEN = "fake-voice-callback-token-0123456789abcdef"
PUBLIC = "https://linli.example"
TEMPLATES = {
    "emergency.safety.voice": {"zh-hans": "TTS_100001", "en": "TTS_100002"},
    "emergency.safety.voice.drill": {"zh-hans": "TTS_100003", "en": "TTS_100004"},
    "voice.answer.safe": {"zh-hans": "TTS_100011", "en": "TTS_100012"},
    "voice.answer.help": {"zh-hans": "TTS_100013", "en": "TTS_100014"},
    "voice.no_key": {"zh-hans": "TTS_100015", "en": "TTS_100016"},
}
SHANGHAI = ZoneInfo("Asia/Shanghai")

ERRORS = {
    "isv.MOBILE_NUMBER_ILLEGAL": (400, "号码格式非法"),
    "isv.BUSINESS_LIMIT_CONTROL": (400, "触发流控"),
    "isv.TTS_TEMPLATE_ILLEGAL": (400, "TTS模板不合法"),
    "isv.INVALID_PARAMETERS": (400, "参数异常"),
    "isv.PARAM_LENGTH_LIMIT": (400, "参数长度受限"),
    "isv.OUT_OF_SERVICE": (400, "业务停机"),
    "isp.SYSTEM_ERROR": (500, "系统错误"),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (400, "The request signature we calculated does not match the signature you provided."),
    "SignatureNonceUsed": (400, "The request signature nonce has been used."),
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
}
OUTCOMES = {  # outcome -> (final status_code, status_msg, smart_status_code, picked up)
    "answered": ("200000", "用户听完语音", "ANSWERED", True),
    "hangup": ("200001", "用户提前挂机未完整收听", "ANSWERED", True),
    "no-answer": ("200003", "用户收到呼叫但未接听", "NO_ANSWER", False),
    "busy": ("200002", "用户占线", "USER_BUSY", False),
    "invalid": ("200004", "用户号码不合法", "INVALID_NUMBER", False),
    "powered-off": ("200010", "关机", "POWERED_OFF", False),
}
_REQUIRED_SIGNED = {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
_AUTH = re.compile(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})")

Post = Callable[[str, bytes, dict[str, str]], tuple[int, str]]


@dataclass
class RecordedRequest:
    action: str
    params: dict[str, str]
    refused: str  # the error code answered for a bad signature, else ""
    at: float = field(default_factory=time.monotonic)




def via_client(client: Any) -> Post:
    """Deliver receipt pushes through Django's test client, to the path of the public URL."""
    def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, body, content_type=headers.get("Content-Type", "application/json"))
        return response.status_code, response.content.decode()
    return post


def via_http(timeout: float = 10.0) -> Post:
    def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
        return response.status_code, response.text
    return post


def _now(offset: float = 0) -> str:
    return (datetime.now(SHANGHAI) + timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S")


class FakeAliyunVoice(LoopbackFake):
    thread_name = "fake-aliyun-voice"

    def __init__(self, access_key_id: str = ACCESS_KEY_ID, access_key_secret: str = ACCESS_KEY_SECRET,
                 callback_url: str = f"{PUBLIC}/voice/aliyun/report/?t={CALLBACK_TOKEN}",
                 templates: dict[str, Any] | None = None, flow_control: bool = False):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.callback_url = callback_url
        known = templates if templates is not None else TEMPLATES
        self.template_codes = {code for entry in known.values() for code in entry.values()}
        self.flow_control = flow_control
        self.calls: list[dict[str, Any]] = []  # accepted calls, in order
        self.requests: list[RecordedRequest] = []
        self._fail_to: dict[str, str] = {}
        self._nonces: set[str] = set()
        self._random = random.Random(11)
        super().__init__()

    # --- control ------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def fail_to(self, number: str, code: str) -> None:
        """Every call to `number` (Aliyun's form: 139..., not +86) answers this code."""
        self._fail_to[number] = code

    def call(self, call_id: str) -> dict[str, Any]:
        return next(c for c in self.calls if c["call_id"] == call_id)

    # --- receipts -----------------------------------------------------------------------------
    def receipts(self, call_id: str, outcome: str = "answered", digits: str = "") -> list[list[dict[str, Any]]]:
        """The JSON arrays Aliyun would push for this call, in order."""
        call = self.call(call_id)
        final_code, final_msg, smart, picked_up = OUTCOMES[outcome]
        out_id = call["params"].get("OutId", "")
        progress = [("200101", None), ("200201", None)]
        if picked_up:
            progress.append(("200102", "ANSWERED"))
        if digits:
            progress.append(("300000", "ANSWERED"))
        pushes: list[list[dict[str, Any]]] = []
        for code, smart_code in progress:
            record: dict[str, Any] = {"call_id": call_id, "status_code": code, "status_time": _now(), "out_id": out_id}
            if smart_code:
                record["smart_status_code"] = smart_code
            if code == "300000":
                record["dtmf"] = digits
            pushes.append([record])
        duration = 21 if picked_up else 0
        pushes.append([{
            "call_id": call_id, "status_code": final_code, "status_msg": final_msg, "smart_status_code": smart,
            "out_id": out_id, "caller": call["params"].get("CalledShowNumber", ""),
            "callee": call["params"].get("CalledNumber", ""), "duration": str(duration),
            "originate_time": _now(-30), "ring_time": _now(-28), "start_time": _now(-21) if picked_up else "",
            "end_time": _now(), "dtmf": digits, "voice_type": "voice", "toll_type": "UNKNOWN",
            "hangup_direction": "用户" if outcome == "hangup" else "机器",
        }])
        return pushes

    def simulate_call(self, call_id: str, outcome: str = "answered", digits: str = "", *,
                      post: Post) -> list[tuple[int, str]]:
        """POST every receipt of the call to callback_url, as the HTTP batch push would."""
        answers = []
        for push in self.receipts(call_id, outcome, digits):
            body = json.dumps(push, ensure_ascii=False).encode()
            answers.append(post(self.callback_url, body, {"Content-Type": "application/json"}))
        return answers

    # --- behaviour ----------------------------------------------------------------------------
    def signature_error(self, method: str, path: str, query: list[tuple[str, str]], headers: Any,
                        body: bytes) -> str:
        """"" when the request carries a valid ACS3-HMAC-SHA256 signature by our key."""
        match = _AUTH.fullmatch(headers.get("Authorization", ""))
        if not match:
            return "IncompleteSignature"
        if match[1] != self.access_key_id:
            return "InvalidAccessKeyId.NotFound"
        signed = match[2].split(";")
        if signed != sorted(signed) or not _REQUIRED_SIGNED <= set(signed) or any(headers.get(h) is None for h in signed):
            return "IncompleteSignature"
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash:
            return "SignatureDoesNotMatch"
        canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(query))
        canonical_headers = "".join(f"{h}:{headers.get(h).strip()}\n" for h in signed)
        canonical = f"{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{';'.join(signed)}\n{payload_hash}"
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(self.access_key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match[3]):
            return "SignatureDoesNotMatch"
        with self._lock:
            nonce = headers.get("x-acs-signature-nonce")
            if nonce in self._nonces:
                return "SignatureNonceUsed"
            self._nonces.add(nonce)
        return ""

    def _invalid(self, action: str, params: dict[str, str]) -> str:
        """The code Aliyun would answer for parameters it refuses, else ""."""
        code_key = "StartCode" if action == "IvrCall" else "TtsCode"
        if not params.get("CalledNumber") or not params.get(code_key) or not params.get("CalledShowNumber"):
            return "isv.INVALID_PARAMETERS"
        if not re.fullmatch(r"1[3-9]\d{9}|0[1-9]\d{8,10}", params["CalledNumber"]):
            return "isv.MOBILE_NUMBER_ILLEGAL"
        codes = [params[code_key]] + [v for k, v in params.items() if re.fullmatch(r"MenuKeyMap\.\d+\.Code|ByeCode", k)]
        if any(code not in self.template_codes for code in codes):
            return "isv.TTS_TEMPLATE_ILLEGAL"
        if not 1 <= int(params.get("PlayTimes", "3")) <= 3 or len(params.get("OutId", "").encode()) > 15:
            return "isv.INVALID_PARAMETERS"
        tts = params.get("StartTtsParams" if action == "IvrCall" else "TtsParam", "")
        if len(tts) >= 250:
            return "isv.PARAM_LENGTH_LIMIT"
        if tts:
            try:
                values = json.loads(tts)
            except ValueError:
                return "isv.INVALID_PARAMETERS"
            if any(re.search(r"https?://", str(v)) for v in values.values()):
                return "isv.PARAM_NOT_SUPPORT_URL"
        return ""

    def _store(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        call_id = f"{self._random.randrange(10**11, 10**12)}^{self._random.randrange(10**10, 10**11)}"
        record = {"call_id": call_id, "action": action, "params": params, "at": time.monotonic(),
                  "start_tts_params": json.loads(params.get("StartTtsParams") or params.get("TtsParam") or "{}"),
                  "menu": {params[k]: params[k[:-3] + "Code"] for k in params if re.fullmatch(r"MenuKeyMap\.\d+\.Key", k)}}
        self.calls.append(record)
        return record

    def _place(self, action: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        invalid = self._invalid(action, params)
        if invalid:
            return self._error(invalid)
        number = params["CalledNumber"]
        with self._lock:
            if number in self._fail_to:
                answer: Any = self._fail_to[number]
            elif self._script:
                answer = self._script.popleft()
            else:
                answer = "ok"
            if self.flow_control and answer == "ok" and any(
                    c["params"]["CalledNumber"] == number and time.monotonic() - c["at"] < 60 for c in self.calls):
                answer = "isv.BUSINESS_LIMIT_CONTROL"
        if isinstance(answer, tuple) and answer[0] == "delay":
            time.sleep(answer[1])
            answer = "ok"
        if answer in ("ok", "accept_then_500"):
            with self._lock:
                record = self._store(action, params)
            if answer == "accept_then_500":
                return self._error("isp.SYSTEM_ERROR")
            return 200, {"RequestId": str(uuid.uuid4()).upper(), "Code": "OK", "Message": "OK", "CallId": record["call_id"]}
        if isinstance(answer, tuple) and answer[0] == "http200":
            return 200, {"RequestId": str(uuid.uuid4()).upper(), "Code": answer[1], "Message": ERRORS.get(answer[1], (0, answer[1]))[1]}
        return self._error("isp.SYSTEM_ERROR" if answer == "500" else str(answer))

    @staticmethod
    def _error(code: str) -> tuple[int, dict[str, Any]]:
        status, message = ERRORS.get(code, (400, code))
        return status, {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message,
                        "Recommend": "https://api.aliyun.com/troubleshoot", "HostId": "dyvmsapi.aliyuncs.com"}

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

            def _route(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qsl(url.query, keep_blank_values=True)
                params = dict(query)
                action = self.headers.get("x-acs-action") or params.get("Action", "")
                refused = fake.signature_error(method, url.path or "/", query, self.headers, body)
                fake.requests.append(RecordedRequest(action, params, refused))
                if refused:
                    return self._answer(*fake._error(refused))
                if method != "POST" or action not in ("IvrCall", "SingleCallByTts"):
                    return self._answer(*fake._error("InvalidAction.NotFound"))
                return self._answer(*fake._place(action, params))

            def do_POST(self) -> None:
                self._route("POST")

            def do_GET(self) -> None:
                self._route("GET")

        return Handler


@pytest.fixture
def fake_aliyun_voice(settings: Any) -> Any:
    """A running fake, with the domestic voice backend pointed at it through the Aliyun SDK."""
    fake = FakeAliyunVoice().start()
    settings.VOICE_BACKENDS = {**settings.VOICE_BACKENDS, "domestic": "notifications.voice.aliyun.AliyunVoiceTransport"}
    settings.ALIYUN_VOICE_ACCESS_KEY_ID = fake.access_key_id
    settings.ALIYUN_VOICE_ACCESS_KEY_SECRET = fake.access_key_secret
    settings.ALIYUN_VOICE_ENDPOINT = fake.endpoint
    settings.ALIYUN_VOICE_PROTOCOL = "http"
    settings.ALIYUN_VOICE_SHOW_NUMBER = SHOW_NUMBER
    settings.ALIYUN_VOICE_TEMPLATES = TEMPLATES
    settings.ALIYUN_VOICE_CALLBACK_TOKEN = CALLBACK_TOKEN
    settings.VOICE_HTTP_TIMEOUT = 5.0
    settings.PUBLIC_BASE_URL = PUBLIC
    yield fake
    fake.stop()
