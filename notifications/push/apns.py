"""Apple Push Notification service through aioapns (HTTP/2, token auth with a .p8 key).

Celery workers are synchronous, aioapns is asyncio: the transport owns one event loop in a
daemon thread, and on it one aioapns connection pool whose HTTP/2 connection (by default
exactly one, APNS_MAX_CONNECTIONS) carries many concurrent streams. send_batch() submits
one coroutine per message to that loop and waits for all of them; the connection stays open
between batches (Apple asks providers not to reconnect per notification).

Seams into aioapns 4.0 (its host is a class constant; no base-URL parameter):
- APNsKeyConnectionPool._create_connection is overridden to connect to APNS_API_BASE_URL
  (the loopback fake in tests; Apple's hosts otherwise) with a connect timeout, which aioapns
  lacks, and to wait for the server's SETTINGS before the first stream is opened;
- the pool's protocol_class is our subclass of aioapns' production/development protocol: it
  keeps Apple's host for the `host` header, raises the library's 10-second idle close, and
  makes each push cheaper (one socket write per loop iteration instead of per stream, no
  Huffman coding or header re-validation in pure Python) -- see bench/README.md;
- sends are gated by our own semaphore (APNS_MAX_IN_FLIGHT) and shielded from timeouts,
  because aioapns polls every 10 ms past the stream limit and cannot take a cancelled future.
Settings: APNS_KEY or APNS_KEY_PATH, APNS_KEY_ID, APNS_TEAM_ID, APNS_TOPIC, APNS_USE_SANDBOX,
APNS_API_BASE_URL, APNS_CA_FILE, APNS_MAX_CONNECTIONS, APNS_MAX_IN_FLIGHT, APNS_CRITICAL_ALERTS,
PUSH_HTTP_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import threading
import uuid
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aioapns.common import (
    PRIORITY_HIGH,
    PRIORITY_NORMAL,
    NotificationRequest,
    NotificationResult,
    PushType,
)
from aioapns.connection import (
    APNsBaseClientProtocol,
    APNsDevelopmentClientProtocol,
    APNsKeyConnectionPool,
    APNsProductionClientProtocol,
    JWTAuthorizationHeaderProvider,
)
from aioapns.exceptions import ConnectionClosed, MaxAttemptsExceeded
from aioapns.exceptions import ConnectionError as APNsConnectionError
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from h2.connection import H2Connection
from h2.settings import ChangedSetting, SettingCodes
from hpack import Encoder, NeverIndexedHeaderTuple

from .aps import apns_payload
from .base import PushError, PushMessage, PushOutcome, PushResult, PushTransport, short_collapse_key
from .loop import LoopThread

logger = logging.getLogger(__name__)


# Apple, "Handling notification responses from APNs" (reason strings in the JSON body).
INVALID_TOKEN_REASONS = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic", "ExpiredToken"}
OPERATOR_REASONS = {  # our key, team, topic or environment is wrong: every push fails alike
    "BadCertificate", "BadCertificateEnvironment", "ExpiredProviderToken", "Forbidden",
    "InvalidProviderToken", "MissingProviderToken", "BadTopic", "TopicDisallowed", "MissingTopic",
    "InvalidPushType",
}
STREAMS_PER_CONNECTION = 1000  # what APNs (and the fake) allow concurrently on one connection
TRANSIENT_REASONS = {
    "TooManyRequests", "TooManyProviderTokenUpdates", "InternalServerError", "ServiceUnavailable",
    "Shutdown", "IdleTimeout",
}


def classify(status: str, reason: str, timestamp: int | None = None) -> PushError:
    """Map an APNs status and reason to a PushError."""
    message = f"APNs {status} {reason}".strip()
    if reason in INVALID_TOKEN_REASONS or status == "410":
        if timestamp:  # the token has been invalid since (ms): a newer registration wins
            message += f" (invalid since {timestamp})"
        return PushError(message, reason or status, invalid_token=True)
    if reason in OPERATOR_REASONS or status == "403":
        return PushError(message, reason or status, operator=True)
    if reason in TRANSIENT_REASONS or status == "429" or status.startswith("5"):
        return PushError(message, reason or status)
    return PushError(message, reason or status, permanent=True)


def apns_id(push_id: int) -> str:
    """The apns-id names the push in Apple's answer and logs: derived from our row id."""
    if 0 <= push_id < 2**64:
        return str(uuid.UUID(int=push_id))
    return str(uuid.uuid4())


# Headers whose value is new with every push: indexing them in HPACK's dynamic table only
# evicts the ones that repeat (authorization, apns-topic, apns-push-type).
_UNIQUE_PER_PUSH = {":path", "apns-id", "apns-expiration", "apns-collapse-id"}


class _PlainEncoder(Encoder):
    """HPACK as aioapns needs it, made cheap: Huffman coding a new :path and apns-id for every
    push in pure Python was the largest client cost per push (profiled), and the bytes it saves
    do not matter at these sizes; per-push values are sent as literals, never indexed."""

    def encode(self, headers: Any, huffman: bool = False) -> bytes:
        return super().encode(
            [NeverIndexedHeaderTuple(name, value) if name in _UNIQUE_PER_PUSH else (name, value)
             for name, value in headers], huffman=False)


class _LinliProtocolMixin:
    INACTIVITY_TIME = 300  # aioapns closes idle connections after 10 s; APNs wants them kept

    loop: asyncio.AbstractEventLoop
    conn: H2Connection
    free_channels: Any

    def _setup(self) -> None:
        self.settings_received = asyncio.Event()
        self._flush_scheduled = False
        self.conn.encoder = _PlainEncoder()
        # aioapns builds well-formed headers itself: h2's per-header normalising and checking
        # in pure Python was the next largest cost per push.
        self.conn.config.normalize_outbound_headers = False
        self.conn.config.validate_outbound_headers = False

    def on_remote_settings_changed(self, changed_settings: dict[SettingCodes, ChangedSetting]) -> None:
        super().on_remote_settings_changed(changed_settings)  # type: ignore[misc]
        self.settings_received.set()

    @property
    def is_busy(self) -> bool:
        # A closing connection stays in aioapns' pool until connection_lost; it must not be
        # handed new streams meanwhile.
        transport = getattr(self, "transport", None)
        return bool(transport is not None and transport.is_closing()) or bool(self.free_channels.is_busy)

    def abort(self) -> None:
        transport = getattr(self, "transport", None)
        if transport is not None:
            transport.abort()  # no TLS goodbye: the peer stopped answering

    def flush(self) -> None:
        # aioapns writes to the socket after every stream; coalescing the writes of one loop
        # iteration (a whole batch) into one TLS write saves a syscall and a record per push.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._flush_scheduled = False
        transport = getattr(self, "transport", None)
        if transport is not None and not transport.is_closing():
            super().flush()  # type: ignore[misc]


class _ProductionProtocol(_LinliProtocolMixin, APNsProductionClientProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup()


class _SandboxProtocol(_LinliProtocolMixin, APNsDevelopmentClientProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup()


class LinliAPNsPool(APNsKeyConnectionPool):
    """aioapns's token-auth pool, connecting where we say, with a connect timeout."""

    def __init__(self, *, host: str, port: int, connect_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.protocol_class = _SandboxProtocol if kwargs.get("use_sandbox") else _ProductionProtocol
        self.connect_host, self.connect_port, self.connect_timeout = host, port, connect_timeout
        self.connections_made = 0
        # One provider token for every connection of the pool (aioapns makes one per
        # connection): Apple answers TooManyProviderTokenUpdates to new tokens more often
        # than every 20 minutes, and a reconnect must not cost one.
        self.auth_provider = JWTAuthorizationHeaderProvider(key=self.key, key_id=self.key_id, team_id=self.team_id)

    async def create_connection(self) -> APNsBaseClientProtocol:
        # aioapns annotates the topic as optional and the callback as NoReturn; both are fine.
        factory = partial(self.protocol_class, self.apns_topic, self.loop,  # type: ignore[arg-type]
                          self.discard_connection, self.auth_provider)  # type: ignore[arg-type]
        return await self._create_connection(factory)

    async def _create_connection(self, apns_protocol_factory: Any) -> APNsBaseClientProtocol:
        async def connect() -> APNsBaseClientProtocol:
            _, protocol = await self.loop.create_connection(
                protocol_factory=apns_protocol_factory, host=self.connect_host, port=self.connect_port,
                ssl=self.ssl_context, server_hostname=self.connect_host,
            )
            # The server's SETTINGS (stream limit) and first WINDOW_UPDATE arrive with its
            # preface; opening hundreds of streams before that overruns the default window.
            await protocol.settings_received.wait()
            return protocol  # type: ignore[no-any-return]

        self.connections_made += 1
        return await asyncio.wait_for(connect(), self.connect_timeout)


def _load_key() -> str:
    pem = str(settings.APNS_KEY or "")
    if not pem and settings.APNS_KEY_PATH:
        pem = Path(settings.APNS_KEY_PATH).read_text()
    if not pem:
        raise ImproperlyConfigured("APNs needs APNS_KEY (PEM text) or APNS_KEY_PATH (the .p8 file).")
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except ValueError as exc:
        raise ImproperlyConfigured(f"APNS_KEY is not a PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ImproperlyConfigured("APNS_KEY must be an ES256 (P-256) key, as Apple's .p8 files are.")
    return pem


def _target() -> tuple[str, int]:
    if settings.APNS_API_BASE_URL:
        url = urlsplit(settings.APNS_API_BASE_URL)
        if url.scheme != "https" or not url.hostname:
            raise ImproperlyConfigured("APNS_API_BASE_URL must look like https://host[:port].")
        return url.hostname, url.port or 443
    protocol = _SandboxProtocol if settings.APNS_USE_SANDBOX else _ProductionProtocol
    return protocol.APNS_SERVER, protocol.APNS_PORT


class APNsTransport(PushTransport):
    name = "apns"
    max_batch = 500

    def __init__(self, provider: str = "") -> None:
        super().__init__(provider)
        self.key = _load_key()
        self.key_id, self.team_id, self.topic = settings.APNS_KEY_ID, settings.APNS_TEAM_ID, settings.APNS_TOPIC
        if not (self.key_id and self.team_id and self.topic):
            raise ImproperlyConfigured("APNs needs APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC (the bundle id).")
        self.host, self.port = _target()
        self.use_sandbox = settings.APNS_USE_SANDBOX
        self.timeout = settings.PUSH_HTTP_TIMEOUT
        self.max_connections = max(1, settings.APNS_MAX_CONNECTIONS)
        self.critical_allowed = settings.APNS_CRITICAL_ALERTS
        # h2 counts open streams by walking them all for every new one, so each stream in
        # flight makes every send dearer: 500 keeps a 200 ms round trip to Apple busy at
        # 2,500/s per connection, above what one process can prepare (see bench/README.md).
        self.max_in_flight = min(max(1, settings.APNS_MAX_IN_FLIGHT), STREAMS_PER_CONNECTION)
        self._lock = threading.Lock()
        self._runner: LoopThread | None = None
        self._pool: LinliAPNsPool | None = None
        self._in_flight: asyncio.Semaphore | None = None

    # --- plumbing -------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if settings.APNS_CA_FILE:
            context.load_verify_locations(cafile=settings.APNS_CA_FILE)
        context.set_alpn_protocols(["h2"])
        return context

    def _loop_thread(self) -> LoopThread:
        with self._lock:
            if self._runner is None or not self._runner.usable:  # first use, or a forked worker
                self._runner, self._pool, self._in_flight = LoopThread(f"{self.provider}-loop"), None, None
            return self._runner

    def _get_pool(self) -> LinliAPNsPool:
        if self._pool is None:  # built on the loop: aioapns binds the running loop
            self._pool = LinliAPNsPool(
                host=self.host, port=self.port, connect_timeout=self.timeout,
                key=self.key, key_id=self.key_id, team_id=self.team_id, topic=self.topic,
                max_connections=self.max_connections,
                # One attempt: a message lost with a dropped connection is reported (transient)
                # and retried by the outbox, not resent behind its back.
                max_connection_attempts=1,
                use_sandbox=self.use_sandbox, ssl_context=self._ssl_context(),
            )
        return self._pool

    @property
    def connections_made(self) -> int:
        return self._pool.connections_made if self._pool is not None else 0

    # --- sending --------------------------------------------------------------------------
    def _request(self, message: PushMessage, notification_id: str) -> NotificationRequest:
        return NotificationRequest(
            device_token=message.token,
            message=apns_payload(message, critical_allowed=self.critical_allowed),
            notification_id=notification_id,
            time_to_live=message.ttl_seconds,
            priority=int(PRIORITY_HIGH if message.priority == "high" else PRIORITY_NORMAL),
            collapse_key=short_collapse_key(message.collapse_key) if message.collapse_key else None,
            push_type=PushType.ALERT,
        )

    async def _send_one(self, pool: LinliAPNsPool, request: NotificationRequest) -> NotificationResult:
        # Wait for a free stream here: past the server's stream limit aioapns polls every 10 ms
        # per waiting push, which costs more CPU than the sends themselves.
        async with self._streams():
            # shield: a timeout must not cancel the future aioapns resolves later (that raises
            # InvalidStateError inside the protocol); the connection is closed instead.
            task = asyncio.ensure_future(pool.send_notification(request))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            return await asyncio.wait_for(asyncio.shield(task), self.timeout)

    def _streams(self) -> asyncio.Semaphore:
        if self._in_flight is None:  # created on the loop it serves
            self._in_flight = asyncio.Semaphore(self.max_in_flight * self.max_connections)
        return self._in_flight

    async def _send_all(self, messages: list[PushMessage]) -> list[PushOutcome]:
        pool = self._get_pool()
        try:
            # Connect (or find the open connection) once, before fanning out: aioapns would
            # otherwise let every message of the batch try to connect in turn when APNs is down.
            await asyncio.wait_for(pool.acquire(), self.timeout + 1)
        except (TimeoutError, APNsConnectionError, OSError) as exc:
            return [PushError(f"APNs unreachable: {type(exc).__name__}", "network") for _ in messages]
        seen: set[str] = set()
        requests = []
        for message in messages:
            notification_id = apns_id(message.push_id)
            if notification_id in seen:  # aioapns matches answers by apns-id
                notification_id = str(uuid.uuid4())
            seen.add(notification_id)
            requests.append(self._request(message, notification_id))
        answers = await asyncio.gather(*(self._send_one(pool, r) for r in requests), return_exceptions=True)
        if any(isinstance(a, asyncio.TimeoutError) for a in answers):
            for connection in list(pool.connections):  # one that stopped answering is presumed dead
                connection.abort()  # type: ignore[attr-defined]
            await asyncio.sleep(0)  # connection_lost runs: pending streams fail, the pool forgets it
        return [self._outcome(answer) for answer in answers]

    def _outcome(self, answer: NotificationResult | BaseException) -> PushOutcome:
        if isinstance(answer, NotificationResult):
            if answer.is_successful:
                return PushResult(provider_id=answer.notification_id)
            return classify(answer.status, answer.description or "", answer.timestamp)
        if isinstance(answer, asyncio.TimeoutError):
            return PushError(f"APNs did not answer within {self.timeout} s", "timeout")
        if isinstance(answer, (MaxAttemptsExceeded, APNsConnectionError, ConnectionClosed, OSError)):
            return PushError(f"APNs connection failed: {type(answer).__name__}", "network")
        logger.warning("APNs send failed unexpectedly: %r", answer)
        return PushError(f"APNs error: {type(answer).__name__}", "error")

    def send_batch(self, messages: list[PushMessage]) -> list[PushOutcome]:
        if not messages:
            return []
        runner = self._loop_thread()
        try:
            # A last resort against a wedged loop: generous for queueing behind the stream limit.
            bound = self.timeout * (2 + len(messages) / self.max_in_flight) + 5
            return runner.run(self._send_all(list(messages)), timeout=bound)
        except concurrent.futures.TimeoutError:
            return [PushError("APNs batch timed out", "timeout") for _ in messages]

    def close(self) -> None:
        with self._lock:
            runner, pool, self._runner, self._pool = self._runner, self._pool, None, None
        if runner is None or not runner.usable:
            return
        if pool is not None:
            try:
                runner.run(_close_pool(pool), timeout=5)
            except (concurrent.futures.TimeoutError, RuntimeError):
                pass
        runner.stop()


async def _close_pool(pool: LinliAPNsPool) -> None:
    pool.close()
    await asyncio.sleep(0.05)  # let the transports finish closing before the loop stops
