"""Firebase Cloud Messaging, HTTP v1 API, through google-auth.

FCM's batch endpoint was deprecated in June 2023 and shut down from July 2024 (Firebase FAQ,
"fcm-depr-features"); the official Admin SDKs' send_each() now sends one request per message
concurrently, and so do we: a keep-alive requests session (google-auth's AuthorizedSession,
which signs every request with the cached OAuth2 token and refreshes it on 401) shared by a
thread pool of FCM_CONCURRENCY workers. Why not httpx with HTTP/2: it is not installed here,
and a pool of keep-alive HTTP/1.1 connections already keeps FCM_CONCURRENCY requests in
flight; the limit is our CPU per request, not the connection.

The OAuth2 token comes from the service account's own token_uri (a JWT assertion signed
with its RSA key), is cached by the credentials object and refreshed under a lock before a
batch fans out, so N threads never fetch N tokens. Settings: FCM_CREDENTIALS_FILE or
FCM_CREDENTIALS_JSON, FCM_PROJECT_ID (default: the service account's project_id),
FCM_API_BASE_URL, FCM_CONCURRENCY, FCM_ANDROID_CHANNEL_ID, PUSH_HTTP_TIMEOUT,
APNS_CRITICAL_ALERTS (iOS devices reached through FCM).
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account

from .aps import aps_dictionary
from .base import PushError, PushMessage, PushOutcome, PushResult, PushTransport, short_collapse_key

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


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = email.utils.parsedate_to_datetime(value)
    return max(0.0, when.timestamp() - time.time()) if when else None


def classify(response: requests.Response) -> PushError:
    """Map an FCM v1 error response to a PushError (FCM ErrorCode reference)."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    details = error.get("details", []) if isinstance(error, dict) else []
    fcm_code = next((d.get("errorCode", "") for d in details if str(d.get("@type", "")).endswith("FcmError")), "")
    fields = [v.get("field", "") for d in details for v in d.get("fieldViolations", [])]
    status = error.get("status", "") if isinstance(error, dict) else ""
    code = fcm_code or status or str(response.status_code)
    text = f"FCM {response.status_code} {code}: {error.get('message', '') if isinstance(error, dict) else ''}"[:300]
    wait = _retry_after(response)
    if code == "UNREGISTERED":
        return PushError(text, code, invalid_token=True)
    if code == "INVALID_ARGUMENT":
        about_token = "message.token" in fields or "registration token" in text.lower()
        return PushError(text, code, invalid_token=about_token, permanent=True)
    if code in ("QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL") or response.status_code in (429, 500, 502, 503, 504):
        return PushError(text, code, retry_after=wait)
    if code == "SENDER_ID_MISMATCH":
        # The token belongs to another Firebase project. Not pruned: a wrong FCM_PROJECT_ID
        # would otherwise delete every device.
        return PushError(text, code, permanent=True)
    if code in ("THIRD_PARTY_AUTH_ERROR", "UNAUTHENTICATED", "PERMISSION_DENIED") or response.status_code in (401, 403):
        return PushError(text, code, operator=True)
    if response.status_code == 404:  # NOT_FOUND without UNREGISTERED: the project is wrong
        return PushError(text, code, operator=True)
    return PushError(text, code, permanent=response.status_code < 500)


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
            self.credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
        except (ValueError, KeyError) as exc:
            raise ImproperlyConfigured(f"FCM service account is unusable: {exc}") from exc
        self.timeout = settings.PUSH_HTTP_TIMEOUT
        self.channel_id = settings.FCM_ANDROID_CHANNEL_ID
        self.critical_allowed = settings.APNS_CRITICAL_ALERTS
        self.concurrency = max(1, settings.FCM_CONCURRENCY)
        base = (settings.FCM_API_BASE_URL or FCM_API).rstrip("/")
        self.url = f"{base}/v1/projects/{self.project_id}/messages:send"
        self._token_session = self._http_session(trust_env=base == FCM_API, pool=2)
        self.auth_request = Request(self._token_session)
        self.session = AuthorizedSession(self.credentials, auth_request=self.auth_request, refresh_timeout=self.timeout)
        self._configure(self.session, trust_env=base == FCM_API, pool=self.concurrency)
        self._token_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @staticmethod
    def _configure(session: requests.Session, *, trust_env: bool, pool: int) -> requests.Session:
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.trust_env = trust_env  # a loopback fake must not go through a proxy
        return session

    def _http_session(self, *, trust_env: bool, pool: int) -> requests.Session:
        return self._configure(requests.Session(), trust_env=trust_env, pool=pool)

    def _pool(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"{self.provider}-send")
            return self._executor

    def ensure_token(self) -> None:
        """Fetch or refresh the OAuth2 token once, before the batch fans out to many threads."""
        with self._token_lock:
            if not self.credentials.valid:
                self.credentials.refresh(self.auth_request)

    def _send_one(self, message: PushMessage) -> PushOutcome:
        body = {"message": fcm_message(message, channel_id=self.channel_id, critical_allowed=self.critical_allowed)}
        try:
            response = self.session.post(self.url, json=body, timeout=self.timeout)
        except auth_exceptions.GoogleAuthError as exc:
            return _refresh_failed(exc)
        except requests.exceptions.Timeout:
            return PushError(f"FCM did not answer within {self.timeout} s", "timeout")
        except requests.exceptions.RequestException as exc:
            return PushError(f"FCM connection failed: {type(exc).__name__}", "network")
        if response.status_code == 200:
            return PushResult(provider_id=response.json().get("name", ""))
        return classify(response)

    def send_batch(self, messages: list[PushMessage]) -> list[PushOutcome]:
        if not messages:
            return []
        try:
            self.ensure_token()
        except auth_exceptions.GoogleAuthError as exc:
            error = _refresh_failed(exc)
            return [error for _ in messages]
        if len(messages) == 1:
            return [self._send_one(messages[0])]
        return list(self._pool().map(self._send_one, messages))

    def close(self) -> None:
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        self.session.close()
        self._token_session.close()
