"""Twilio Programmable Messaging through the official `twilio` library.

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and TWILIO_MESSAGING_SERVICE_SID (preferred:
the service owns the sender pool and the opt-out configuration) or TWILIO_FROM_NUMBER.
Every call has an explicit timeout (SMS_HTTP_TIMEOUT). TWILIO_API_BASE_URL points the client
at another host speaking the same REST API (the fake server in tests/fake_twilio.py); the
rewrite happens in the HTTP client, so the library's own request and error code is used.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from .base import OutgoingSms, SendResult, Transport, TransportError

logger = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"

# Twilio error codes that retrying cannot fix (research R3.5).
PERMANENT_CODES = {
    21211,  # invalid 'To' number
    21408,  # permission to send to this region not enabled
    21606,  # 'From' number is not SMS capable / not owned
    21610,  # recipient unsubscribed (STOP) - also recorded as an opt-out
    21612,  # cannot route to this number
    21614,  # 'To' is not a mobile number
    21617,  # body exceeds 1600 characters
    30003,  # unreachable handset (reported on callbacks)
    30004,  # message blocked
    30005,  # unknown destination handset
    30006,  # landline or unreachable carrier
    30007,  # filtered as spam / policy: operators must review the content
    30008,  # unknown error on delivery
}
UNSUBSCRIBED = 21610
TOO_MANY_REQUESTS = 20429

# The library logs every request with its parameters (numbers and bodies) at INFO.
_http_logger = logging.getLogger("linli.twilio.http")
_http_logger.setLevel(logging.WARNING)


class LinliTwilioHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no py.typed: its classes are Any
    """The library's HTTP client with a mandatory timeout and an optional base-URL rewrite."""

    def __init__(self, *, timeout: float, base_url: str = "") -> None:
        super().__init__(timeout=timeout, logger=_http_logger)
        self.base_url = base_url.rstrip("/")
        if self.session is not None and self.base_url:
            self.session.trust_env = False  # a loopback fake must not go through a proxy

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout or self.timeout, allow_redirects=allow_redirects)


def classify(exc: Exception) -> TransportError:
    """Map what the library raised to a TransportError (permanent or transient)."""
    if isinstance(exc, TwilioRestException):
        code = int(exc.code) if str(exc.code or "").isdigit() else 0
        message = f"Twilio {exc.status} {code}: {exc.msg}"[:500]
        if exc.status == 429 or code == TOO_MANY_REQUESTS:
            return TransportError(message, code or 429, permanent=False)
        if exc.status >= 500:
            return TransportError(message, code or exc.status, permanent=False, maybe_sent=True)
        if code in PERMANENT_CODES:
            return TransportError(message, code, permanent=True)
        if exc.status in (401, 403):
            # Credentials or account trouble: an operator must act; retry until they do.
            return TransportError(message, code or exc.status, permanent=False, operator=True)
        return TransportError(message, code or exc.status, permanent=exc.status < 500)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransportError("Twilio connect timeout", "timeout", permanent=False)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return TransportError("Twilio read timeout", "timeout", permanent=False, maybe_sent=True)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransportError(f"Twilio connection error: {type(exc).__name__}", "network", permanent=False, maybe_sent=True)
    return TransportError(f"Twilio error: {type(exc).__name__}", "error", permanent=False, maybe_sent=True)


class TwilioTransport(Transport):
    name = "twilio"

    def __init__(self) -> None:
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not sid or not token:
            raise ImproperlyConfigured("SMS_BACKEND is Twilio but TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set.")
        self.messaging_service_sid = settings.TWILIO_MESSAGING_SERVICE_SID
        self.from_number = settings.TWILIO_FROM_NUMBER
        if not self.messaging_service_sid and not self.from_number:
            raise ImproperlyConfigured("Set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER.")
        http = LinliTwilioHttpClient(timeout=settings.SMS_HTTP_TIMEOUT, base_url=settings.TWILIO_API_BASE_URL)
        self.client = Client(sid, token, http_client=http)

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        params: dict[str, str | int] = {"to": to, "body": body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if status_callback:
            params["status_callback"] = status_callback
        if settings.SMS_VALIDITY_SECONDS:
            params["validity_period"] = settings.SMS_VALIDITY_SECONDS
        try:
            message = self.client.messages.create(**params)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise classify(exc) from exc
        return SendResult(sid=message.sid, provider_status=message.status or "")

    def find_sent(self, *, to: str, body: str, since: datetime, exclude_sids: set[str],
                  message: OutgoingSms | None = None) -> SendResult | None:
        """Ask Twilio for recent messages to `to` (newest first) and match the body."""
        try:
            recent = self.client.messages.list(to=to, limit=50)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise classify(exc) from exc
        window_start = since - timedelta(minutes=2)  # clock skew between us and Twilio
        for found in recent:
            created = found.date_created
            if created is not None and created < window_start:
                continue
            if found.body == body and found.sid not in exclude_sids:
                return SendResult(sid=found.sid, provider_status=found.status or "")
        return None
