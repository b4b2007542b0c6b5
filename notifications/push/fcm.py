"""Firebase Cloud Messaging, HTTP v1 API, with google-auth for the OAuth2 token.

FCM's batch endpoint was deprecated in June 2023 and shut down from July 2024 (Firebase FAQ,
"fcm-depr-features"); the official Admin SDKs' send_each() now sends one request per message
concurrently, and so do we. The HTTP client is aiohttp (already installed with twilio; C
HTTP parser) on an event loop owned by the transport, over a keep-alive pool of
FCM_CONCURRENCY connections. Measured against the fake on this machine, google-auth's
AuthorizedSession on requests with a thread pool cost about 1.6 ms of client CPU per push
(requests' per-call overhead and 32 threads contending for the GIL): about 550 pushes/s;
aiohttp costs about 0.45 ms. httpx (HTTP/2) is not installed.

The token comes from google-auth's service-account credentials (a JWT assertion signed with
the account's RSA key, POSTed to the token_uri inside the JSON), cached by the credentials
object and refreshed under a lock before a batch fans out, so a batch never fetches more than
one. A 401 from FCM (token revoked or expired early) forces one refresh and one resend.
Settings: FCM_CREDENTIALS_FILE or FCM_CREDENTIALS_JSON, FCM_PROJECT_ID (default: the service
account's project_id), FCM_API_BASE_URL, FCM_CONCURRENCY, FCM_ANDROID_CHANNEL_ID,
PUSH_HTTP_TIMEOUT, APNS_CRITICAL_ALERTS (iOS devices reached through FCM).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from .aps import aps_dictionary
from .base import PushError, PushMessage, PushOutcome, PushResult, PushTransport, short_collapse_key
from .loop import LoopThread

logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_API = "https://fcm.googleapis.com"


def _credentials_info() -> dict[str, Any]:
    if settings.FCM_CREDENTIALS_JSON:
        text = settings.FCM_CREDENTIALS_JSON
    elif settings.FCM_CREDENTIALS_FILE:
        text = Path(settings.FCM_CREDENTIALS_FILE).read_text()
    else:
        raise ImproperlyConfigured("FCM needs FCM_CREDENTIALS_FILE or FCM_CREDENTIALS_JSON (a service account).")
    try:
        info: dict[str, Any] = json.loads(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"FCM credentials are not JSON: {exc}") from exc
    return info


def fcm_message(message: PushMessage, *, channel_id: str = "", critical_allowed: bool = False) -> dict[str, Any]:
    """The HTTP v1 `message` object for one device."""
    body: dict[str, Any] = {"token": message.token, "notification": {"title": message.title, "body": message.body}}
    if message.data:
        body["data"] = dict(message.data)
    if message.platform == "android":
        notification: dict[str, Any] = {}
        if message.sound:
            notification["sound"] = message.sound
        if channel_id:
            notification["channel_id"] = channel_id
        if message.critical or message.priority == "high":
            notification["notification_priority"] = "PRIORITY_MAX" if message.critical else "PRIORITY_HIGH"
        if message.badge is not None:
            notification["notification_count"] = message.badge
        android: dict[str, Any] = {"priority": "HIGH" if message.priority == "high" else "NORMAL",
                                   "ttl": f"{message.ttl_seconds}s"}
        if message.collapse_key:
            android["collapse_key"] = message.collapse_key  # collapses undelivered messages at FCM
            notification["tag"] = message.collapse_key  # replaces the shown notification on the phone
        if notification:
            android["notification"] = notification
        body["android"] = android
    else:  # iOS through FCM: FCM forwards these headers and merges the aps into its payload
        headers = {"apns-priority": "10" if message.priority == "high" else "5", "apns-push-type": "alert",
                   "apns-expiration": str(int(time.time()) + message.ttl_seconds if message.ttl_seconds else 0)}
        if message.collapse_key:
            headers["apns-collapse-id"] = short_collapse_key(message.collapse_key)
        body["apns"] = {"headers": headers,
                        "payload": {"aps": aps_dictionary(message, critical_allowed=critical_allowed)}}
    return body


def _retry_after(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify(status: int, body: Any, retry_after: str = "") -> PushError:
    """Map an FCM v1 error response (status, parsed JSON body) to a PushError."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    error = error if isinstance(error, dict) else {}
    details = error.get("details", []) if isinstance(error.get("details"), list) else []
    fcm_code = next((d.get("errorCode", "") for d in details if str(d.get("@type", "")).endswith("FcmError")), "")
    fields = [v.get("field", "") for d in details for v in d.get("fieldViolations", [])]
    code = fcm_code or error.get("status", "") or str(status)
    text = f"FCM {status} {code}: {error.get('message', '')}"[:300]
    if code == "UNREGISTERED":
        return PushError(text, code, invalid_token=True)
    if code == "INVALID_ARGUMENT":
        about_token = "message.token" in fields or "registration token" in text.lower()
        return PushError(text, code, invalid_token=about_token, permanent=True)
    if code in ("QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL") or status in (429, 500, 502, 503, 504):
        return PushError(text, code, retry_after=_retry_after(retry_after))
    if code == "SENDER_ID_MISMATCH":
        # The token belongs to another Firebase project. Not pruned: a wrong FCM_PROJECT_ID
        # would otherwise delete every device.
        return PushError(text, code, permanent=True)
    if code in ("THIRD_PARTY_AUTH_ERROR", "UNAUTHENTICATED", "PERMISSION_DENIED") or status in (401, 403):
        return PushError(text, code, operator=True)
    if status == 404:  # NOT_FOUND without UNREGISTERED: the project is wrong
        return PushError(text, code, operator=True)
    return PushError(text, code, permanent=status < 500)


def _refresh_failed(exc: auth_exceptions.GoogleAuthError) -> PushError:
    if isinstance(exc, auth_exceptions.TransportError) or getattr(exc, "retryable", False):
        return PushError(f"FCM token endpoint unreachable: {exc}"[:300], "token")
    # invalid_grant and the like: the service account, its key or the clock is wrong.
    return PushError(f"FCM credentials refused: {exc}"[:300], "token", operator=True)


class FCMTransport(PushTransport):
    name = "fcm"
    max_batch = 500

    def __init__(self, provider: str = "") -> None:
        super().__init__(provider)
        info = _credentials_info()
        self.project_id = settings.FCM_PROJECT_ID or info.get("project_id", "")
        if not self.project_id:
            raise ImproperlyConfigured("Set FCM_PROJECT_ID (or project_id in the service account).")
        try:
            self.credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=[SCOPE])  # (google-auth is only partly annotated)
        except (ValueError, KeyError) as exc:
            raise ImproperlyConfigured(f"FCM service account is unusable: {exc}") from exc
        self.timeout = settings.PUSH_HTTP_TIMEOUT
        self.channel_id = settings.FCM_ANDROID_CHANNEL_ID
        self.critical_allowed = settings.APNS_CRITICAL_ALERTS
        self.concurrency = max(1, settings.FCM_CONCURRENCY)
        base = (settings.FCM_API_BASE_URL or FCM_API).rstrip("/")
        self.trust_env = base == FCM_API  # a loopback fake must not go through a proxy
        self.url = f"{base}/v1/projects/{self.project_id}/messages:send"
        token_session = requests.Session()
        token_session.trust_env = self.trust_env
        self.auth_request = Request(token_session)
        self._token_lock = threading.Lock()
        self._lock = threading.Lock()
        self._runner: LoopThread | None = None
        self._session: aiohttp.ClientSession | None = None
        self.connections_opened = 0

    # --- token ----------------------------------------------------------------------------
    def ensure_token(self, *, stale: str | None = None) -> str:
        """The current access token, fetched or refreshed once for all threads. `stale`: a
        token FCM refused; refreshed unless another thread already replaced it."""
        with self._token_lock:
            if not self.credentials.valid or (stale is not None and self.credentials.token == stale):
                self.credentials.refresh(self.auth_request)
            return str(self.credentials.token)

    # --- sending --------------------------------------------------------------------------
    def _loop_thread(self) -> LoopThread:
        with self._lock:
            if self._runner is None or not self._runner.usable:  # first use, or a forked worker
                self._runner, self._session = LoopThread(f"{self.provider}-loop"), None
            return self._runner

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:  # created on the loop it serves
            trace = aiohttp.TraceConfig()
            trace.on_connection_create_end.append(self._count_connection)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency, keepalive_timeout=120),
                # Per network step, so that waiting for one of the pooled connections does not
                # count against a message that has not been sent yet.
                timeout=aiohttp.ClientTimeout(sock_connect=self.timeout, sock_read=self.timeout),
                trust_env=self.trust_env,
                trace_configs=[trace], raise_for_status=False)
        return self._session

    async def _count_connection(self, *args: Any) -> None:
        self.connections_opened += 1

    async def _post(self, message: PushMessage, token: str) -> PushOutcome | None:
        """The outcome, or None when FCM refused the token (401): refresh and resend."""
        body = {"message": fcm_message(message, channel_id=self.channel_id, critical_allowed=self.critical_allowed)}
        try:
            async with self._get_session().post(self.url, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
                answer = _json(await response.text())  # a proxy's 502 page is not JSON
                if response.status == 200:
                    return PushResult(provider_id=str(answer.get("name", "")))
                if response.status == 401 and not _fcm_code(answer):
                    return None
                return classify(response.status, answer, response.headers.get("Retry-After", ""))
        except TimeoutError:
            return PushError(f"FCM did not answer within {self.timeout} s", "timeout")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return PushError(f"FCM connection failed: {type(exc).__name__}", "network")

    async def _send_all(self, messages: list[PushMessage], token: str) -> list[PushOutcome | None]:
        return list(await asyncio.gather(*(self._post(m, token) for m in messages)))

    def send_batch(self, messages: list[PushMessage]) -> list[PushOutcome]:
        if not messages:
            return []
        runner = self._loop_thread()
        try:
            token = self.ensure_token()
            outcomes = self._run(runner, messages, token)
            refused = [i for i, outcome in enumerate(outcomes) if outcome is None]
            if refused:  # revoked or expired early: one refresh, one resend
                token = self.ensure_token(stale=token)
                for i, outcome in zip(refused, self._run(runner, [messages[i] for i in refused], token), strict=True):
                    outcomes[i] = outcome
        except auth_exceptions.GoogleAuthError as exc:
            error = _refresh_failed(exc)
            return [error for _ in messages]
        return [o if o is not None else PushError("FCM 401: token refused twice", "UNAUTHENTICATED", operator=True)
                for o in outcomes]

    def _run(self, runner: LoopThread, messages: list[PushMessage], token: str) -> list[PushOutcome | None]:
        try:
            # A last resort against a wedged loop: generous for queueing behind the pool.
            bound = self.timeout * (2 + len(messages) / self.concurrency) + 5
            return runner.run(self._send_all(messages, token), timeout=bound)
        except concurrent.futures.TimeoutError:
            return [PushError("FCM batch timed out", "timeout") for _ in messages]

    def close(self) -> None:
        with self._lock:
            runner, session, self._runner, self._session = self._runner, self._session, None, None
        if runner is not None and runner.usable:
            if session is not None:
                try:
                    runner.run(session.close(), timeout=5)
                except (concurrent.futures.TimeoutError, RuntimeError):
                    pass
            runner.stop()
        self.auth_request.session.close()


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def _fcm_code(answer: Any) -> str:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    details = error.get("details", []) if isinstance(error, dict) else []
    return next((str(d.get("errorCode", "")) for d in details if isinstance(d, dict) and "errorCode" in d), "")
