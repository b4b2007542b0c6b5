"""A fake of Twilio's Messages REST API: a real HTTP server on loopback, in a thread.

It speaks enough of the API (form-encoded POST and GET on /2010-04-01/Accounts/{sid}/
Messages.json, GET .../Messages/{sid}.json, HTTP basic auth, Twilio's JSON resource and
error shapes) that the REAL twilio library works against it; the app is pointed at it with
TWILIO_API_BASE_URL, so only the network edge is replaced.

    def test_something(fake_twilio):
        fake_twilio.script("429", "ok")          # next creates: 429, then success
        fake_twilio.fail_to("+8613900000009", 21610)
        ... send ...
        assert len(fake_twilio.messages) == 1     # accepted creates
        assert fake_twilio.requests[-1].form["Body"] == "..."

In other apps' tests: messages queued with queue_sms() are rows (SmsMessage) at once; to
send them, run `notifications.tasks.drain_outbox()` (or `send_sms(message_id)`) directly
after commit, with settings.SMS_RATE_PER_SECOND/SMS_RATE_BURST raised (default pace: 1/s).
Without this fixture the locmem backend keeps sent texts in
notifications.transports.locmem.outbox. Run standalone (`python tests/fake_twilio.py`) it
prints its base URL; GET /__fake__/recorded and POST /__fake__/reset control it.

Answers a create can be scripted with: "ok", "429", "500", "503", a Twilio error code
(21610, 21211, 21614, 30007, ...) answered as HTTP 400, ("delay", seconds) before answering
success, and "accept_then_500" (the message IS created, but the client sees a 500).
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest

from tests.loopback import LoopbackFake

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
MESSAGING_SERVICE_SID = "MG" + "a" * 32

ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21602: (400, "Message body is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (400, "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account"),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    30007: (400, "Message filtered"),
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    query: dict[str, str]
    at: float = field(default_factory=time.monotonic)


def _error_body(code: int) -> tuple[int, dict]:
    status, message = ERRORS.get(code, (400, f"Error {code}"))
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True).replace("GMT", "+0000")


class FakeTwilio(LoopbackFake):
    thread_name = "fake-twilio"

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict] = []  # accepted creates, in order (Twilio's resource shape)
        self.create_times: list[float] = []  # time.monotonic() of each accepted create
        self.requests: list[RecordedRequest] = []
        self._fail_to: dict[str, int] = {}
        self.random_answers: dict[str, float] = {}  # e.g. {"429": 0.05}: answered at random
        self._random = random.Random(7)
        super().__init__()

    # --- control ------------------------------------------------------------------------

    def fail_to(self, phone: str, code: int) -> None:
        """Every create to `phone` answers this Twilio error code."""
        self._fail_to[phone] = code

    def creates_to(self, phone: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == phone]

    def create_message(self, to: str, body: str, **extra) -> dict:
        """Record a message as if created through the API (e.g. by a worker that then died)."""
        with self._lock:
            return self._store({"To": to, "Body": body, **extra})

    # --- behaviour ----------------------------------------------------------------------
    def _next_answer(self, form: dict[str, str]):
        with self._lock:
            if form.get("To") in self._fail_to:
                return self._fail_to[form["To"]]
            if self._script:
                return self._script.popleft()
            for answer, probability in self.random_answers.items():
                if self._random.random() < probability:
                    return answer
            return "ok"

    def _store(self, form: dict[str, str]) -> dict:
        now = datetime.now(UTC)
        sid = "SM" + secrets.token_hex(16)
        service = form.get("MessagingServiceSid")
        resource = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": _rfc2822(now),
            "date_sent": None,
            "date_updated": _rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": form.get("To"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "status_callback": form.get("StatusCallback"),
        }
        self.messages.append(resource)
        self.create_times.append(time.monotonic())
        return resource

    def _create(self, form: dict[str, str]) -> tuple[int, dict]:
        if not form.get("To"):
            return _error_body(21604)
        if not form.get("Body"):
            return _error_body(21602)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _error_body(21606)
        if not form["To"].startswith("+") or not form["To"][1:].isdigit():
            return _error_body(21211)
        answer = self._next_answer(form)
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

    def _list(self, query: dict[str, str]) -> tuple[int, dict]:
        found = [m for m in reversed(self.messages)  # newest first, as Twilio lists
                 if (not query.get("To") or m["to"] == query["To"]) and (not query.get("From") or m["from"] == query["From"])]
        size = max(1, min(1000, int(query.get("PageSize", 50))))
        page = int(query.get("Page", 0))
        chunk = found[page * size : (page + 1) * size]
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        has_next = (page + 1) * size < len(found)
        return 200, {
            "messages": chunk,
            "end": page * size + max(0, len(chunk) - 1),
            "first_page_uri": f"{base}?PageSize={size}&Page=0",
            "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}" + (f"&To={query['To']}" if query.get("To") else "") if has_next else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": f"{base}?PageSize={size}&Page={page - 1}" if page else None,
            "start": page * size,
            "uri": f"{base}?PageSize={size}&Page={page}",
        }

    def _control(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict]:
        """Out-of-process use (benchmarks): read what was recorded, set random answers."""
        if path == "/__fake__/recorded":
            with self._lock:
                posts = sum(1 for r in self.requests if r.method == "POST")
                return 200, {"messages": [{"to": m["to"], "body": m["body"]} for m in self.messages],
                             "create_times": self.create_times, "posts": posts}
        if path == "/__fake__/reset" and method == "POST":
            with self._lock:
                self.messages.clear(), self.create_times.clear(), self.requests.clear()
                self.random_answers = json.loads(form.get("random_answers", "{}"))
            return 200, {"ok": True}
        return _error_body(20404)

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls

            def log_message(self, *args):  # quiet
                pass

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                return user == fake.account_sid and password == fake.auth_token

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()} if length else {}
                if url.path.startswith("/__fake__/"):
                    return self._answer(*fake._control(method, url.path, form))
                fake.requests.append(RecordedRequest(method, url.path, form, query))
                if not self._authorised():
                    return self._answer(*_error_body(20003))
                prefix = f"/2010-04-01/Accounts/{fake.account_sid}/Messages"
                if url.path == prefix + ".json":
                    return self._answer(*(fake._create(form) if method == "POST" else fake._list(query)))
                if method == "GET" and url.path.startswith(prefix + "/") and url.path.endswith(".json"):
                    sid = url.path[len(prefix) + 1 : -5]
                    match = next((m for m in fake.messages if m["sid"] == sid), None)
                    return self._answer(200, match) if match else self._answer(*_error_body(20404))
                return self._answer(*_error_body(20404))

            def do_POST(self):
                self._route("POST")

            def do_GET(self):
                self._route("GET")

        return Handler


@pytest.fixture
def fake_twilio(settings):
    """A running fake, with the app's SMS backend pointed at it through the twilio library."""
    fake = FakeTwilio().start()
    settings.SMS_BACKEND = "notifications.transports.twilio.TwilioTransport"
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_MESSAGING_SERVICE_SID = MESSAGING_SERVICE_SID
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.SMS_HTTP_TIMEOUT = 5.0
    settings.PUBLIC_BASE_URL = "https://linli.example"
    yield fake
    fake.stop()


if __name__ == "__main__":  # run standalone: python tests/fake_twilio.py  (prints its base URL)
    import sys

    server = FakeTwilio().start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        server.stop()
