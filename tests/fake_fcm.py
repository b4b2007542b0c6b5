"""A fake of Firebase Cloud Messaging's HTTP v1 API and of Google's OAuth2 token endpoint:
a real HTTP server on loopback, in a thread, so that the REAL google-auth library and our
FCM transport talk to it (pointed at by FCM_API_BASE_URL and by the token_uri inside the
service account JSON the fixture hands over).

The fake generates the service account's RSA key pair at start: the token endpoint verifies
the signed JWT assertion (RS256, iss, aud, scope) with the public half and
issues bearer tokens; messages:send verifies the bearer token (known, not expired, not
revoked) and the message's shape (token, string-only data, ttl "3600s", priority).

    def test_something(fake_fcm):
        fake_fcm.fail_token("dead", "UNREGISTERED")      # every send to "dead": 404
        fake_fcm.script("QUOTA_EXCEEDED", "ok")          # next answers, in order
        ... send ...
        assert fake_fcm.token_requests == 1
        [sent] = fake_fcm.messages                       # accepted messages (the v1 JSON)

Answers: "ok", "UNREGISTERED", "INVALID_ARGUMENT" (the token), "INVALID_PAYLOAD", "QUOTA_EXCEEDED"
(429 with Retry-After), "UNAVAILABLE" (503 with Retry-After), "INTERNAL" (500),
"SENDER_ID_MISMATCH", "THIRD_PARTY_AUTH_ERROR", ("delay", seconds) then success.
`rate` (requests/s) paces answers; `record=False` keeps only counters (benchmarks).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fake_pacing import Pacer
from tests.loopback import LoopbackFake

PROJECT_ID = "linli-test"
CLIENT_EMAIL = "linli-push@linli-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
# google-auth signs its assertion for Google's token endpoint whatever the token_uri says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"

ANSWERS: dict[str, tuple[int, str, str]] = {  # FCM error code -> HTTP status, gRPC status, message
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "INVALID_PAYLOAD": (400, "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value' (TYPE_STRING)"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}


@dataclass
class RecordedSend:
    message: dict[str, Any]
    authorization: str
    status: int = 0
    at: float = field(default_factory=time.monotonic)


def error_body(code: str) -> tuple[int, dict[str, Any]]:
    status, grpc_status, text = ANSWERS[code]
    details: list[dict[str, Any]] = [{"@type": FCM_ERROR, "errorCode": "INVALID_ARGUMENT" if code == "INVALID_PAYLOAD" else code}]
    if code == "INVALID_ARGUMENT":
        details.append({"@type": BAD_REQUEST, "fieldViolations": [{"field": "message.token", "description": text}]})
    if code == "INVALID_PAYLOAD":
        details.append({"@type": BAD_REQUEST, "fieldViolations": [{"field": "message.data[0].value", "description": text}]})
    return status, {"error": {"code": status, "message": text, "status": grpc_status, "details": details}}


def _grpc_error(status: int, grpc_status: str, text: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": text, "status": grpc_status}}


class FakeFCM(LoopbackFake):
    thread_name = "fake-fcm"

    def __init__(self, *, project_id: str = PROJECT_ID, rate: float | None = None, record: bool = True,
                 token_lifetime: int = 3600, retry_after: int = 30) -> None:
        self.project_id = project_id
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(20)
        self.token_lifetime = token_lifetime
        self.retry_after = retry_after
        self.pacer = Pacer(rate)
        self.record = record
        self.requests: list[RecordedSend] = []  # every send, whatever the answer
        self.messages: list[dict[str, Any]] = []  # accepted messages
        self.token_requests = 0
        self.refused_assertions = 0
        self.sends = 0
        self.accepted = 0
        self.connections = 0
        self.tokens: dict[str, float] = {}  # issued access token -> expiry (time.time())
        self._fail: dict[str, Any] = {}
        super().__init__()

    # --- control ------------------------------------------------------------------------

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    def service_account_info(self, private_key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        """The JSON a developer downloads from the Firebase console, pointing at this fake."""
        pem = (private_key or self.private_key).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": self.project_id, "private_key_id": self.key_id,
                "private_key": pem, "client_email": CLIENT_EMAIL, "client_id": "1234567890",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": self.token_uri}

    def fail_token(self, token: str, answer: Any) -> None:
        self._fail[token] = answer

    def revoke_tokens(self) -> None:
        """Every issued access token stops working (the next send gets 401)."""
        with self._lock:
            self.tokens.clear()

    def describe(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "project_id": self.project_id,
                "credentials_json": json.dumps(self.service_account_info())}

    def stats(self) -> dict[str, Any]:
        return {"connections": self.connections, "token_requests": self.token_requests, "sends": self.sends,
                "accepted": self.accepted}

    # --- behaviour ----------------------------------------------------------------------
    def issue_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests += 1
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        try:
            claims = jwt.decode(form.get("assertion", ""), self.private_key.public_key(), algorithms=["RS256"],
                                audience=GOOGLE_TOKEN_AUDIENCE, options={"require": ["iss", "aud", "exp", "iat"]})
        except jwt.InvalidTokenError as exc:
            with self._lock:
                self.refused_assertions += 1
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT Signature. ({type(exc).__name__})"}
        if claims["iss"] != CLIENT_EMAIL or SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided."}
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.time() + self.token_lifetime
        return 200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}

    def _authorised(self, header: str) -> bool:
        token = header[7:] if header.startswith("Bearer ") else ""
        with self._lock:
            expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.time()

    def _validate(self, message: Any) -> str:
        if not isinstance(message, dict) or not message.get("token"):
            return "INVALID_ARGUMENT"
        if any(not isinstance(v, str) for v in message.get("data", {}).values()):
            return "INVALID_PAYLOAD"
        android = message.get("android", {})
        if android and (android.get("priority", "NORMAL") not in ("HIGH", "NORMAL")
                        or not re.fullmatch(r"\d+(\.\d+)?s", android.get("ttl", "0s"))):
            return "INVALID_PAYLOAD"
        return ""

    def send(self, path: str, authorization: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.sends += 1
        message = body.get("message") if isinstance(body, dict) else None
        recorded = RecordedSend(message if isinstance(message, dict) else {}, authorization)
        if self.record:
            self.requests.append(recorded)
        if not self._authorised(authorization):
            recorded.status = 401
            return (*_grpc_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), {})
        if path != f"/v1/projects/{self.project_id}/messages:send":
            recorded.status = 404
            return (*_grpc_error(404, "NOT_FOUND", "Requested entity was not found."), {})
        answer = self._validate(message) or self._answer_for(str(message.get("token")))  # type: ignore[union-attr]
        if isinstance(answer, tuple) and answer[0] == "delay":
            time.sleep(float(answer[1]))
            answer = "ok"
        if answer != "ok":
            status, error = error_body(str(answer))
            recorded.status = status
            headers = {"Retry-After": str(self.retry_after)} if status in (429, 503) else {}
            return status, error, headers
        recorded.status = 200
        name = f"projects/{self.project_id}/messages/{secrets.token_hex(8)}"
        with self._lock:
            self.accepted += 1
            if self.record:
                self.messages.append(message)  # type: ignore[arg-type]
        return 200, {"name": name}, {}

    def _answer_for(self, token: str) -> Any:
        with self._lock:
            if token in self._fail:
                return self._fail[token]
            if self._script:
                return self._script.popleft()
            return "ok"

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

            def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delay = fake.pacer.delay()
                if delay:
                    time.sleep(delay)
                if self.path == "/token":
                    form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                    return self._answer(*fake.issue_token(form))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._answer(*_grpc_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
                self._answer(*fake.send(self.path, self.headers.get("Authorization", ""), body))

        return Handler


@pytest.fixture
def fake_fcm(settings):
    """A running fake FCM + token endpoint, with the app's FCM backend pointed at it."""
    fake = FakeFCM().start()
    settings.PUSH_BACKENDS = {**settings.PUSH_BACKENDS, "fcm": "notifications.push.fcm.FCMTransport"}
    settings.FCM_CREDENTIALS_JSON = json.dumps(fake.service_account_info())
    settings.FCM_CREDENTIALS_FILE = ""
    settings.FCM_PROJECT_ID = fake.project_id
    settings.FCM_API_BASE_URL = fake.base_url
    settings.FCM_CONCURRENCY = 8
    settings.FCM_ANDROID_CHANNEL_ID = ""
    settings.PUSH_HTTP_TIMEOUT = 5.0
    yield fake
    from notifications.push import close_push_transports

    close_push_transports()
    fake.stop()


if __name__ == "__main__":  # run standalone: prints what a client needs, as JSON
    import sys

    server = FakeFCM().start()
    print(json.dumps(server.describe()), flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
