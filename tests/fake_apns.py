"""A fake of Apple's APNs provider API: HTTP/2 over TLS on loopback (the `h2` library), in a
thread, so that the REAL aioapns client talks to it through APNS_API_BASE_URL.

It generates, at start, a TLS certificate for 127.0.0.1 (trusted by the app via APNS_CA_FILE)
and the provider's ES256 signing key pair: the app signs its JWTs with `key_pem` (as with a
.p8 file) and the fake verifies every `authorization: bearer <jwt>` with the public half
(kid, iss, iat, signature), answering 403 InvalidProviderToken when it does not verify.

    def test_something(fake_apns):
        fake_apns.fail_token(TOKEN, "Unregistered")     # 410 with a timestamp, every time
        fake_apns.script("TooManyRequests", "ok")       # next answers, in order
        ... send ...
        assert fake_apns.connections == 1
        [push] = fake_apns.pushes                       # accepted (200) pushes
        assert push.headers["apns-collapse-id"] == "alert-7"
        assert push.payload["aps"]["alert"]["title"] == "..."

Answers: "ok"; an APNs reason ("Unregistered", "BadDeviceToken", "TooManyRequests",
"ServiceUnavailable", "InternalServerError", "PayloadTooLarge", "BadTopic", ...), answered with
its status; ("delay", seconds) then success; "no_answer" (the stream is never answered).
`rate` (requests/s) paces answers like a busy server; `record=False` keeps only counters.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes, Settings
from hpack import Encoder

from tests.fake_pacing import Pacer

KEY_ID = "ABC123DEFG"
TEAM_ID = "DEF123GHIJ"
TOPIC = "cn.linli.app"

REASON_STATUS = {
    "BadCollapseId": 400, "BadDeviceToken": 400, "BadExpirationDate": 400, "BadMessageId": 400,
    "BadPriority": 400, "BadTopic": 400, "DeviceTokenNotForTopic": 400, "DuplicateHeaders": 400,
    "IdleTimeout": 400, "InvalidPushType": 400, "MissingDeviceToken": 400, "MissingTopic": 400,
    "PayloadEmpty": 400, "TopicDisallowed": 400, "BadCertificate": 403, "BadCertificateEnvironment": 403,
    "ExpiredProviderToken": 403, "Forbidden": 403, "InvalidProviderToken": 403, "MissingProviderToken": 403,
    "BadPath": 404, "MethodNotAllowed": 405, "ExpiredToken": 410, "Unregistered": 410, "PayloadTooLarge": 413,
    "TooManyProviderTokenUpdates": 429, "TooManyRequests": 429, "InternalServerError": 500,
    "ServiceUnavailable": 503, "Shutdown": 503,
}


@dataclass
class RecordedPush:
    token: str
    headers: dict[str, str]
    payload: dict[str, Any]
    connection: int  # which TLS connection carried it (1, 2, ...)
    status: int = 0
    reason: str = ""
    at: float = field(default_factory=time.monotonic)


def _pem_private(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _self_signed_certificate(key: ec.EllipticCurvePrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-apns.localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


class FakeAPNs:
    def __init__(self, *, key_id: str = KEY_ID, team_id: str = TEAM_ID, topic: str = TOPIC,
                 rate: float | None = None, max_streams: int = 1000, record: bool = True) -> None:
        self.key_id, self.team_id, self.topic = key_id, team_id, topic
        self.signing_key = ec.generate_private_key(ec.SECP256R1())  # the provider's .p8 key pair
        self.key_pem = _pem_private(self.signing_key)
        tls_key = ec.generate_private_key(ec.SECP256R1())
        self.cert_pem = _self_signed_certificate(tls_key)
        self._dir = tempfile.mkdtemp(prefix="fake-apns-")
        self.ca_file = os.path.join(self._dir, "ca.pem")
        with open(self.ca_file, "w") as f:
            f.write(self.cert_pem)
        key_file = os.path.join(self._dir, "key.pem")
        with open(key_file, "w") as f:
            f.write(_pem_private(tls_key))
        self.ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ssl_context.load_cert_chain(self.ca_file, key_file)
        self.ssl_context.set_alpn_protocols(["h2"])
        self.pacer = Pacer(rate)
        self.max_streams = max_streams
        self.record = record
        self.requests: list[RecordedPush] = []  # every request, whatever the answer
        self.connections = 0  # TLS connections accepted
        self.streams = 0  # requests (HTTP/2 streams) received
        self.accepted = 0
        self.alpn: list[str | None] = []
        self.provider_tokens: set[str] = set()  # distinct JWTs that verified
        self._script: deque[Any] = deque()
        self._fail: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.base_events.Server | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-apns", daemon=True)
        self.port = 0

    # --- control ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def pushes(self) -> list[RecordedPush]:
        return [r for r in self.requests if r.status == 200]

    def start(self) -> FakeAPNs:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(lambda: _APNsServerProtocol(self), "127.0.0.1", 0, ssl=self.ssl_context),
            self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self.server is not None
            self.server.close()
            for protocol in list(_APNsServerProtocol.live.get(id(self), [])):
                protocol.transport.close()
            await asyncio.sleep(0.05)

        if self.server is not None:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()
        for name in os.listdir(self._dir):
            os.unlink(os.path.join(self._dir, name))
        os.rmdir(self._dir)

    def script(self, *answers: Any) -> None:
        """Answers for the next requests, in order; afterwards every push succeeds."""
        with self._lock:
            self._script.extend(answers)

    def fail_token(self, token: str, answer: Any) -> None:
        """Every push to `token` gets this answer (e.g. "Unregistered", "BadDeviceToken")."""
        self._fail[token] = answer

    def describe(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "ca_pem": self.cert_pem, "key_pem": self.key_pem,
                "key_id": self.key_id, "team_id": self.team_id, "topic": self.topic}

    def stats(self) -> dict[str, Any]:
        return {"connections": self.connections, "streams": self.streams, "accepted": self.accepted}

    # --- behaviour ----------------------------------------------------------------------
    def _check_jwt(self, authorization: str) -> str:
        """"" when the provider token verifies, else the APNs reason."""
        if not authorization.lower().startswith("bearer "):
            return "MissingProviderToken"
        token = authorization[7:]
        if token in self.provider_tokens:
            return ""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self.signing_key.public_key(), algorithms=["ES256"],
                                options={"require": ["iss", "iat"], "verify_iat": False})
        except jwt.InvalidTokenError:
            return "InvalidProviderToken"
        if header.get("kid") != self.key_id or claims["iss"] != self.team_id:
            return "InvalidProviderToken"
        if claims["iat"] < time.time() - 3600:  # Apple refuses tokens older than one hour
            return "ExpiredProviderToken"
        self.provider_tokens.add(token)
        return ""

    def _answer_for(self, token: str) -> Any:
        with self._lock:
            if token in self._fail:
                return self._fail[token]
            if self._script:
                return self._script.popleft()
            return "ok"

    def handle(self, headers: dict[str, str], body: bytes, connection: int) -> tuple[int, str, float]:
        """(status, reason, delay before answering) for one request; "no_answer": status 0."""
        self.streams += 1
        path = headers.get(":path", "")
        token = path.rsplit("/", 1)[-1] if path.startswith("/3/device/") else ""
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = {}
        recorded = RecordedPush(token, {k: v for k, v in headers.items() if not k.startswith(":")}, payload, connection)
        if self.record:
            self.requests.append(recorded)
        reason, delay = self._judge(headers, body, payload, token), 0.0
        if not reason:
            answer = self._answer_for(token)
            if isinstance(answer, tuple) and answer[0] == "delay":
                delay, answer = float(answer[1]), "ok"
            if answer == "no_answer":
                return 0, "", 0.0
            reason = "" if answer == "ok" else str(answer)
        status = 200 if not reason else REASON_STATUS.get(reason, 400)
        recorded.status, recorded.reason = status, reason
        if status == 200:
            self.accepted += 1
        return status, reason, delay + self.pacer.delay()

    def _judge(self, headers: dict[str, str], body: bytes, payload: dict[str, Any], token: str) -> str:
        if headers.get(":method") != "POST":
            return "MethodNotAllowed"
        if not headers.get(":path", "").startswith("/3/device/"):
            return "BadPath"
        reason = self._check_jwt(headers.get("authorization", ""))
        if reason:
            return reason
        if not token:
            return "MissingDeviceToken"
        if not all(c in "0123456789abcdefABCDEF" for c in token):
            return "BadDeviceToken"
        if headers.get("apns-topic") != self.topic:
            return "BadTopic" if headers.get("apns-topic") else "MissingTopic"
        if headers.get("apns-priority", "10") not in ("10", "5", "1"):
            return "BadPriority"
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            return "BadCollapseId"
        if headers.get("apns-push-type", "alert") not in ("alert", "background", "voip", "liveactivity"):
            return "InvalidPushType"
        if len(body) > 4096:
            return "PayloadTooLarge"
        if not isinstance(payload.get("aps"), dict):
            return "PayloadEmpty"
        return ""


class _PlainEncoder(Encoder):
    def encode(self, headers: Any, huffman: bool = False) -> bytes:
        return super().encode(headers, huffman=False)


class _APNsServerProtocol(asyncio.Protocol):
    live: dict[int, set[_APNsServerProtocol]] = {}

    def __init__(self, fake: FakeAPNs) -> None:
        self.fake = fake
        self.conn = H2Connection(H2Configuration(
            client_side=False, header_encoding="utf-8", validate_inbound_headers=False,
            normalize_inbound_headers=False, validate_outbound_headers=False, normalize_outbound_headers=False))
        self.conn.encoder = _PlainEncoder()  # Huffman coding in pure Python costs more than it saves here
        self.transport: asyncio.Transport
        self.streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        self.number = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.fake.connections += 1
        self.number = self.fake.connections
        ssl_object = transport.get_extra_info("ssl_object")
        self.fake.alpn.append(ssl_object.selected_alpn_protocol() if ssl_object else None)
        self.live.setdefault(id(self.fake), set()).add(self)
        # Announced in the first SETTINGS frame, so that the client's first burst of streams
        # already meets these limits (h2's defaults: 100 streams, 64 KiB windows).
        self.conn.local_settings = Settings(client=False, initial_values={
            SettingCodes.MAX_CONCURRENT_STREAMS: self.fake.max_streams,
            SettingCodes.MAX_HEADER_LIST_SIZE: 65536,
            SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20,
        })
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(1 << 30)
        self.transport.write(self.conn.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        self.live.get(id(self.fake), set()).discard(self)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except ProtocolError:
            self.transport.write(self.conn.data_to_send())
            self.transport.close()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self.streams[event.stream_id] = (dict(event.headers), bytearray())  # type: ignore[arg-type]
            elif isinstance(event, DataReceived):
                self.streams[event.stream_id][1].extend(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                headers, body = self.streams.pop(event.stream_id)
                status, reason, delay = self.fake.handle(headers, bytes(body), self.number)
                if status:
                    apns_id = headers.get("apns-id") or str(uuid.uuid4())
                    if delay:
                        asyncio.get_running_loop().call_later(delay, self._respond, event.stream_id, status, reason, apns_id)
                    else:
                        self._respond(event.stream_id, status, reason, apns_id, flush=False)
            elif isinstance(event, StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, ConnectionTerminated):
                self.transport.close()
        self.transport.write(self.conn.data_to_send())

    def _respond(self, stream_id: int, status: int, reason: str, apns_id: str, flush: bool = True) -> None:
        if self.transport.is_closing():
            return
        headers = [(":status", str(status)), ("apns-id", apns_id)]
        if status == 200:
            self.conn.send_headers(stream_id, headers, end_stream=True)
        else:
            body: dict[str, Any] = {"reason": reason}
            if status == 410:
                body["timestamp"] = int(time.time() * 1000)
            data = json.dumps(body).encode()
            self.conn.send_headers(stream_id, headers + [("content-type", "application/json")])
            self.conn.send_data(stream_id, data, end_stream=True)
        if flush:
            self.transport.write(self.conn.data_to_send())


@pytest.fixture
def fake_apns(settings, tmp_path):
    """A running fake APNs, with the app's APNs backend pointed at it through aioapns."""
    fake = FakeAPNs().start()
    settings.PUSH_BACKENDS = {**settings.PUSH_BACKENDS, "apns": "notifications.push.apns.APNsTransport"}
    settings.APNS_KEY = fake.key_pem
    settings.APNS_KEY_PATH = ""
    settings.APNS_KEY_ID = fake.key_id
    settings.APNS_TEAM_ID = fake.team_id
    settings.APNS_TOPIC = fake.topic
    settings.APNS_USE_SANDBOX = False
    settings.APNS_API_BASE_URL = fake.base_url
    settings.APNS_CA_FILE = fake.ca_file
    settings.APNS_MAX_CONNECTIONS = 1
    settings.APNS_CRITICAL_ALERTS = False
    settings.PUSH_HTTP_TIMEOUT = 5.0
    yield fake
    from notifications.push import close_push_transports

    close_push_transports()
    fake.stop()


if __name__ == "__main__":  # run standalone: prints what a client needs, as JSON
    import sys

    server = FakeAPNs().start()
    print(json.dumps(server.describe()), flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
