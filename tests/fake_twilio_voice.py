"""A fake of Twilio's Calls REST API, and of Twilio calling us back: a real HTTP server on
loopback, in a thread, that the REAL twilio library talks to (TWILIO_API_BASE_URL).

It speaks POST and GET /2010-04-01/Accounts/{sid}/Calls.json and GET .../Calls/{sid}.json
(HTTP basic auth, Twilio's JSON resource, list and error shapes), keeps each call's inline
TwiML, and plays a call out: simulate_call() POSTs the signed status callbacks and, when the
resident "presses" a key, the signed gather action named in the TwiML, as Twilio would.

    def test_something(fake_twilio_voice, client):
        fake_twilio_voice.script("429", "ok")            # next creates: 429, then success
        fake_twilio_voice.fail_to("+15550000009", 21215)
        ... place a call ...
        call = fake_twilio_voice.calls[-1]               # resource + "twiml", "status_callback"
        fake_twilio_voice.simulate_call(call["sid"], "completed", digits="2", post=via_client(client))
        fake_twilio_voice.simulate_call(sid, "busy", post=...)      # or "no-answer", "failed", "canceled"
        fake_twilio_voice.simulate_call(sid, "completed", post=...) # picked up, pressed nothing

`post(url, form, headers) -> (status, body)` delivers one webhook: via_client(client) for
Django's test client (the integrator's views must be mounted at the transport's paths),
via_http() for a live server (PUBLIC_BASE_URL = live_server.url). Create answers can be
scripted: "ok", "429", "500", "503", a Twilio error code (21211, 21215, 13224, ...),
("delay", seconds) before answering success, and "accept_then_500" (the call IS created, the
client sees a 500). Used together with fake_twilio (SMS), requests it does not serve are
relayed to that fake, so both share TWILIO_API_BASE_URL.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.loopback import LoopbackFake

FROM_NUMBER = "+15005550006"
PUBLIC = "https://linli.example"

ERRORS = {
    13224: (400, "Dial: Twilio does not support calling this number or the number is invalid"),
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21201: (400, "No 'To' number is specified"),
    21205: (400, "Url parameter is required"),
    21210: (400, "'From' phone number not verified"),
    21211: (400, "Invalid 'To' Phone Number"),
    21213: (400, "No 'From' number is specified"),
    21215: (400, "Geo Permission configuration is not permitting call"),
}

Post = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]
_GATHER_ACTION = re.compile(r'<Gather [^>]*action="([^"]+)"')


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    query: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class SimulatedCall:
    """What a simulation delivered: every webhook (url, form, status, body) in order, and the
    TwiML our gather action answered."""

    posts: list[tuple[str, dict[str, str], int, str]] = field(default_factory=list)
    gather_replies: list[str] = field(default_factory=list)


def _error_body(code: int) -> tuple[int, dict[str, Any]]:
    status, message = ERRORS.get(code, (400, f"Error {code}"))
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True).replace("GMT", "+0000")


def _unescape(value: str) -> str:
    return value.replace("&amp;", "&").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")




def via_client(client: Any) -> Post:
    """Deliver webhooks through Django's test client, to the path of the public URL."""
    def post(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, urlencode(form), content_type="application/x-www-form-urlencoded",
                               HTTP_X_TWILIO_SIGNATURE=headers["X-Twilio-Signature"])
        return response.status_code, response.content.decode()
    return post


def via_http(timeout: float = 10.0) -> Post:
    """Deliver webhooks over HTTP to the URL itself (a live server)."""
    def post(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        response = requests.post(url, data=form, headers=headers, timeout=timeout)
        return response.status_code, response.text
    return post


class FakeTwilioVoice(LoopbackFake):
    thread_name = "fake-twilio-voice"

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, forward_to: str = ""):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.forward_to = forward_to.rstrip("/")
        self.calls: list[dict[str, Any]] = []  # accepted creates, in order
        self.requests: list[RecordedRequest] = []
        self._fail_to: dict[str, int] = {}
        super().__init__()

    # --- control ------------------------------------------------------------------------------

    def fail_to(self, phone: str, code: int) -> None:
        """Every create to `phone` answers this Twilio error code."""
        self._fail_to[phone] = code

    def calls_to(self, phone: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["to"] == phone]

    def call(self, sid: str) -> dict[str, Any]:
        return next(c for c in self.calls if c["sid"] == sid)

    def create_call(self, to: str, **extra: str) -> dict[str, Any]:
        """Record a call as if created through the API (by a worker that then died)."""
        with self._lock:
            return self._store({"To": [to], "From": [FROM_NUMBER], **{k: [v] for k, v in extra.items()}})

    # --- playing a call out ---------------------------------------------------------------------
    def sign(self, url: str, form: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, form)

    def simulate_call(self, sid: str, outcome: str = "completed", digits: str | list[str] | None = None, *,
                      post: Post, duration: int = 23) -> SimulatedCall:
        """Play call `sid` out as Twilio would: status callbacks for initiated and ringing,
        then either the final `outcome` ("busy", "no-answer", "failed", "canceled") or, for
        "completed", answered - the gather action for each key in `digits` (a list for a
        second key after a re-ask) - and completed. No keys: the resident listened and
        pressed nothing, so Twilio calls no action."""
        call = self.call(sid)
        done = SimulatedCall()
        events = set(call["status_callback_event"])
        for status in ("initiated", "ringing"):
            if status in events:
                self._callback(call, status, post, done)
        if outcome != "completed":
            self._set(call, outcome, 0)
            self._callback(call, outcome, post, done, CallDuration="0", Duration="0")
            return done
        self._set(call, "in-progress", None)
        if "answered" in events:
            self._callback(call, "in-progress", post, done)
        keys = [digits] if isinstance(digits, str) else list(digits or [])
        twiml = call["twiml"]
        for key in keys:
            action = _GATHER_ACTION.search(twiml)
            if action is None:
                break
            form = self._params(call, "in-progress") | {"Digits": key, "FinishedOnKey": "", "msg": "Gather End"}
            status, twiml = self._post(_unescape(action.group(1)), form, post, done)
            done.gather_replies.append(twiml)
        self._set(call, "completed", duration)
        self._callback(call, "completed", post, done, CallDuration=str(duration), Duration=str(max(1, duration // 60)))
        return done

    def _params(self, call: dict[str, Any], status: str) -> dict[str, str]:
        return {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "CallSid": call["sid"],
                "CallStatus": status, "Called": call["to"], "Caller": call["from"], "Direction": "outbound-api",
                "From": call["from"], "To": call["to"]}

    def _callback(self, call: dict[str, Any], status: str, post: Post, done: SimulatedCall, **extra: str) -> None:
        url = call["status_callback"]
        if not url:
            return
        form = self._params(call, status) | {"CallbackSource": "call-progress-events",
                                             "SequenceNumber": str(len(done.posts)),
                                             "Timestamp": _rfc2822(datetime.now(UTC))} | extra
        self._post(url, form, post, done)

    def _post(self, url: str, form: dict[str, str], post: Post, done: SimulatedCall) -> tuple[int, str]:
        status, body = post(url, form, {"X-Twilio-Signature": self.sign(url, form)})
        done.posts.append((url, form, status, body))
        return status, body

    def _set(self, call: dict[str, Any], status: str, duration: int | None) -> None:
        with self._lock:
            call["status"] = status
            now = _rfc2822(datetime.now(UTC))
            call["date_updated"] = now
            if status == "in-progress":
                call["start_time"] = now
            if duration is not None:
                call["duration"] = str(duration)
                call["end_time"] = now

    # --- behaviour ----------------------------------------------------------------------------
    def _next_answer(self, to: str) -> Any:
        with self._lock:
            if to in self._fail_to:
                return self._fail_to[to]
            if self._script:
                return self._script.popleft()
            return "ok"

    def _store(self, form: dict[str, list[str]]) -> dict[str, Any]:
        now = datetime.now(UTC)
        sid = "CA" + secrets.token_hex(16)
        one = {k: v[-1] for k, v in form.items()}
        resource: dict[str, Any] = {
            "account_sid": self.account_sid, "annotation": None, "answered_by": None, "api_version": "2010-04-01",
            "caller_name": None, "date_created": _rfc2822(now), "date_updated": _rfc2822(now),
            "direction": "outbound-api", "duration": None, "end_time": None, "forwarded_from": None,
            "from": one.get("From"), "from_formatted": one.get("From"), "group_sid": None, "parent_call_sid": None,
            "phone_number_sid": "PN" + "0" * 32, "price": None, "price_unit": "USD", "queue_time": "0", "sid": sid,
            "start_time": None, "status": "queued", "to": one.get("To"), "to_formatted": one.get("To"),
            "trunk_sid": None, "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
            "subresource_uris": {"notifications": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}/Notifications.json"},
            # not in Twilio's resource: what the call was created with, for tests
            "twiml": one.get("Twiml", ""), "status_callback": one.get("StatusCallback", ""),
            "status_callback_event": form.get("StatusCallbackEvent", []), "timeout": one.get("Timeout"),
        }
        self.calls.append(resource)
        return resource

    def _create(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        one = {k: v[-1] for k, v in form.items()}
        if not one.get("To"):
            return _error_body(21201)
        if not one.get("From"):
            return _error_body(21213)
        if not (one.get("Twiml") or one.get("Url") or one.get("ApplicationSid")):
            return _error_body(21205)
        if not re.fullmatch(r"\+[1-9]\d{6,14}", one["To"]):
            return _error_body(21211)
        answer = self._next_answer(one["To"])
        if isinstance(answer, tuple) and answer[0] == "delay":
            time.sleep(answer[1])
            answer = "ok"
        if answer == "ok":
            with self._lock:
                return 201, self._store(form)
        if answer == "accept_then_500":
            with self._lock:
                self._store(form)
            return _error_body(20500)
        code = {"429": 20429, "500": 20500, "503": 20503}.get(str(answer), answer)
        return _error_body(int(code))

    def _list(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        found = [c for c in reversed(self.calls)  # newest first, as Twilio lists
                 if (not query.get("To") or c["to"] == query["To"]) and (not query.get("From") or c["from"] == query["From"])]
        size = max(1, min(1000, int(query.get("PageSize", 50))))
        page = int(query.get("Page", 0))
        chunk = [{k: v for k, v in c.items() if k not in ("twiml", "status_callback", "status_callback_event", "timeout")}
                 for c in found[page * size : (page + 1) * size]]
        base = f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        has_next = (page + 1) * size < len(found)
        filters = "".join(f"&{k}={query[k]}" for k in ("To", "From") if query.get(k))
        return 200, {
            "calls": chunk, "end": page * size + max(0, len(chunk) - 1),
            "first_page_uri": f"{base}?PageSize={size}&Page=0",
            "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}{filters}" if has_next else None,
            "page": page, "page_size": size,
            "previous_page_uri": f"{base}?PageSize={size}&Page={page - 1}" if page else None,
            "start": page * size, "uri": f"{base}?PageSize={size}&Page={page}",
        }

    def _relay(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        parts = urlsplit(self.forward_to)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), response.getheader("Content-Type", "application/json")
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                return user == fake.account_sid and password == fake.auth_token

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                prefix = f"/2010-04-01/Accounts/{fake.account_sid}/Calls"
                if not url.path.startswith(prefix) and fake.forward_to:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    return self._send(*fake._relay(method, self.path, headers, raw))
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                form = parse_qs(raw.decode(), keep_blank_values=True) if raw else {}
                fake.requests.append(RecordedRequest(method, url.path, form, query))
                if not self._authorised():
                    return self._answer(*_error_body(20003))
                if url.path == prefix + ".json":
                    return self._answer(*(fake._create(form) if method == "POST" else fake._list(query)))
                if method == "GET" and url.path.startswith(prefix + "/") and url.path.endswith(".json"):
                    sid = url.path[len(prefix) + 1 : -5]
                    match = next((c for c in fake.calls if c["sid"] == sid), None)
                    return self._answer(200, match) if match else self._answer(*_error_body(20404))
                return self._answer(*_error_body(20404))

            def do_POST(self) -> None:
                self._route("POST")

            def do_GET(self) -> None:
                self._route("GET")

        return Handler


@pytest.fixture
def fake_twilio_voice(request: pytest.FixtureRequest, settings: Any) -> Any:
    """A running fake, with the international voice backend pointed at it through the twilio
    library. Requested together with fake_twilio, SMS requests are relayed to that fake."""
    forward_to = request.getfixturevalue("fake_twilio").base_url if "fake_twilio" in request.fixturenames else ""
    fake = FakeTwilioVoice(forward_to=forward_to).start()
    settings.VOICE_BACKENDS = {**settings.VOICE_BACKENDS,
                               "international": "notifications.voice.twilio.TwilioVoiceTransport"}
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_VOICE_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.VOICE_HTTP_TIMEOUT = 5.0
    settings.PUBLIC_BASE_URL = PUBLIC
    yield fake
    fake.stop()
