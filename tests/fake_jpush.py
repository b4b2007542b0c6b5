"""A fake of JPush's Push API v3 (POST /v3/push): a real HTTP server on loopback, in a thread,
so that the REAL `jpush` SDK talks to it through JPUSH_API_BASE_URL.

It checks HTTP Basic auth (appKey:masterSecret; 401 with code 1004 otherwise), the push
object (platform, audience.registration_id: 1 to 1,000 ids, notification, options) and
answers {"sendno", "msg_id"} with X-Rate-Limit-Limit/Remaining/Reset headers, as JPush does.

Registration ids behave as on JPush: an id the fake was told is dead (`unregister`) is
dropped silently when other ids of the call match, and the call answers 1011 (no target)
only when none matches; a malformed id (`malformed`) makes the whole call fail with 1003.

    def test_something(fake_jpush):
        fake_jpush.unregister("dead-id")
        fake_jpush.script(2002, "ok")                   # next calls: rate limited, then fine
        ... send ...
        [call] = fake_jpush.pushes                      # accepted calls
        assert call.delivered == ["id-1", "id-2"]       # ids that matched

Answers for a call: "ok", a JPush code (2002: 429 rate limit with X-Rate-Limit-Reset,
1000: 500, 1030: 503, 1004, 2003, 1012, ...), ("delay", seconds) then success.
`rate` (calls/s) paces answers; `record=False` keeps only counters (benchmarks).
"""

from __future__ import annotations

import base64
import json
import random
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.fake_pacing import Pacer
from tests.loopback import LoopbackFake

APP_KEY = "7d431e42dfa6a6d693ac2d04"
MASTER_SECRET = "5e987ac6d2e04d95a9d8f0d1"

CODES: dict[int, tuple[int, str]] = {  # JPush code -> HTTP status, message (Push API v3, 调用返回)
    1000: (500, "Server internal error"),
    1002: (400, "Missing parameter"),
    1003: (400, "Parameter value is invalid"),
    1004: (401, "Authen failed"),
    1005: (400, "Msg content too long"),
    1008: (400, "app_key is invalid"),
    1009: (400, "Unsupported key in push object"),
    1011: (400, "cannot find user by this audience"),
    1012: (400, "The push exceeded the limit of the vendor quota"),
    1030: (503, "Internal service timeout"),
    2002: (429, "Rate limit exceeded"),
    2003: (403, "The app_key is restricted"),
    2004: (403, "Source IP is not in the white list"),
    2005: (403, "Message volume to these users is beyond a reasonable range"),
}


@dataclass
class RecordedCall:
    payload: dict[str, Any]
    registration_ids: list[str]
    delivered: list[str] = field(default_factory=list)  # ids that matched (accepted calls)
    status: int = 0
    code: int = 0
    msg_id: str = ""
    at: float = field(default_factory=time.monotonic)


def _error(code: int) -> tuple[int, dict[str, Any]]:
    status, message = CODES.get(code, (400, f"Error {code}"))
    return status, {"error": {"code": code, "message": message}}


class FakeJPush(LoopbackFake):
    thread_name = "fake-jpush"

    def __init__(self, *, app_key: str = APP_KEY, master_secret: str = MASTER_SECRET, rate: float | None = None,
                 record: bool = True, rate_limit: int = 600, rate_limit_reset: int = 42) -> None:
        self.app_key, self.master_secret = app_key, master_secret
        self.pacer = Pacer(rate)
        self.record = record
        self.rate_limit, self.rate_limit_reset = rate_limit, rate_limit_reset
        self.calls: list[RecordedCall] = []  # every push call, whatever the answer
        self.call_count = 0
        self.accepted_ids = 0
        self.connections = 0
        self._dead: set[str] = set()
        self._malformed: set[str] = set()
        self._random = random.Random(11)
        super().__init__()

    # --- control ------------------------------------------------------------------------

    @property
    def pushes(self) -> list[RecordedCall]:
        return [c for c in self.calls if c.status == 200]

    def unregister(self, *registration_ids: str) -> None:
        """These ids match no device any more (uninstalled app, expired registration)."""
        self._dead.update(registration_ids)

    def malformed(self, *registration_ids: str) -> None:
        """These ids are not registration ids at all: a call naming one answers 1003."""
        self._malformed.update(registration_ids)

    def describe(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "app_key": self.app_key, "master_secret": self.master_secret}

    def stats(self) -> dict[str, Any]:
        return {"connections": self.connections, "calls": self.call_count, "accepted_ids": self.accepted_ids}

    # --- behaviour ----------------------------------------------------------------------
    def push(self, authorization: str, payload: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.call_count += 1
        audience = payload.get("audience") if isinstance(payload, dict) else None
        ids = list(audience.get("registration_id", [])) if isinstance(audience, dict) else []
        call = RecordedCall(payload if isinstance(payload, dict) else {}, ids)
        if self.record:
            self.calls.append(call)
        status, body = self._judge(authorization, call)
        call.status, call.code = status, body.get("error", {}).get("code", 0)
        return status, body

    def _judge(self, authorization: str, call: RecordedCall) -> tuple[int, dict[str, Any]]:
        expected = base64.b64encode(f"{self.app_key}:{self.master_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return _error(1004)
        payload, ids = call.payload, call.registration_ids
        if not payload.get("platform") or not payload.get("audience"):
            return _error(1002)
        if not payload.get("notification") and not payload.get("message"):
            return _error(1002)
        if not ids or len(ids) > 1000 or any(not i or i in self._malformed for i in ids):
            return _error(1003)
        with self._lock:
            answer = self._script.popleft() if self._script else "ok"
        if isinstance(answer, tuple) and answer[0] == "delay":
            time.sleep(float(answer[1]))
            answer = "ok"
        if answer != "ok":
            return _error(int(answer))
        call.delivered = [i for i in ids if i not in self._dead]
        if not call.delivered:
            return _error(1011)
        call.msg_id = str(self._random.randrange(10**17, 10**18))
        with self._lock:
            self.accepted_ids += len(call.delivered)
        sendno = payload.get("options", {}).get("sendno", 0)
        return 200, {"sendno": str(sendno), "msg_id": call.msg_id}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake.connections += 1

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Rate-Limit-Limit", str(fake.rate_limit))
                self.send_header("X-Rate-Limit-Remaining", "0" if status == 429 else str(fake.rate_limit - 1))
                self.send_header("X-Rate-Limit-Reset", str(fake.rate_limit_reset))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delay = fake.pacer.delay()
                if delay:
                    time.sleep(delay)
                if self.path != "/v3/push":
                    return self._answer(404, {"error": {"code": 1001, "message": "Not found"}})
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    return self._answer(*_error(1003))
                self._answer(*fake.push(self.headers.get("Authorization", ""), payload))

        return Handler


@pytest.fixture
def fake_jpush(settings):
    """A running fake JPush, with the app's JPush backend pointed at it through the jpush SDK."""
    fake = FakeJPush().start()
    settings.PUSH_BACKENDS = {**settings.PUSH_BACKENDS, "jpush": "notifications.push.jpush.JPushTransport"}
    settings.JPUSH_APP_KEY = fake.app_key
    settings.JPUSH_MASTER_SECRET = fake.master_secret
    settings.JPUSH_API_BASE_URL = fake.base_url
    settings.JPUSH_ZONE = "default"
    settings.JPUSH_APNS_PRODUCTION = False
    settings.JPUSH_VENDOR_DISTRIBUTION = "secondary_push"
    settings.JPUSH_SYSTEM_CLASSIFICATION = False
    settings.JPUSH_CONCURRENCY = 4
    settings.PUSH_HTTP_TIMEOUT = 5.0
    yield fake
    from notifications.push import close_push_transports

    close_push_transports()
    fake.stop()


if __name__ == "__main__":  # run standalone: prints what a client needs, as JSON
    import sys

    server = FakeJPush().start()
    print(json.dumps(server.describe()), flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
