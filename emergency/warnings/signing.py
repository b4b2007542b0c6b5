"""Signed webhooks: who sent a request, that it is fresh, and that it is not a replay.

A sender signs each request with the source's shared key:

    X-Linli-Timestamp: 1767225600                 (Unix seconds, when it was signed)
    X-Linli-Nonce:     7f0c1e...                   (16-128 characters, never reused)
    X-Linli-Signature: sha256=<hex HMAC-SHA256(key, timestamp + "." + nonce + "." + body)>

The request is refused (and nothing is written) when a header is missing, the timestamp is
more than WARNING_WEBHOOK_TOLERANCE_SECONDS away from our clock, the signature does not
match (compared in constant time), or the nonce was already used by this source — nonces
are kept for twice the tolerance, so a replay is caught whenever its timestamp still passes.
The nonce is recorded in the transaction that takes the request in: a request refused for
its content can be corrected and sent again with a new nonce.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from ..models import WarningSource, WebhookNonce

NONCE = re.compile(r"^[A-Za-z0-9_\-]{16,128}$")


class WebhookRefused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def signature(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), f"{timestamp}.{nonce}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(key: str, body: bytes, *, nonce: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers a sender adds (tests and the documentation's example use this)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Linli-Timestamp": stamp, "X-Linli-Nonce": nonce, "X-Linli-Signature": signature(key, stamp, nonce, body)}


def verify(request: HttpRequest, source: WarningSource) -> str:
    """Check the signature and freshness; returns the nonce (not yet recorded)."""
    timestamp = request.headers.get("X-Linli-Timestamp", "")
    nonce = request.headers.get("X-Linli-Nonce", "")
    given = request.headers.get("X-Linli-Signature", "")
    if not (timestamp and nonce and given) or not source.secret:
        raise WebhookRefused(401, "unsigned", "Sign the request: X-Linli-Timestamp, X-Linli-Nonce, X-Linli-Signature.")
    if not timestamp.isdigit() or not NONCE.match(nonce):
        raise WebhookRefused(401, "bad_signature", "The timestamp is Unix seconds; the nonce 16-128 of [A-Za-z0-9_-].")
    if abs(time.time() - int(timestamp)) > settings.WARNING_WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRefused(401, "stale_timestamp", "The timestamp is too far from now; sign again.")
    if not hmac.compare_digest(given, signature(source.secret, timestamp, nonce, request.body)):
        raise WebhookRefused(401, "bad_signature", "The signature does not match.")
    return nonce


def use_nonce(source: WarningSource, nonce: str) -> None:
    """Record the nonce in the caller's transaction; a second use is a replay."""
    try:
        with transaction.atomic():
            WebhookNonce.objects.create(source=source, nonce=nonce, seen_at=timezone.now())
    except IntegrityError:
        raise WebhookRefused(409, "replayed", "This nonce was already used; a replay is refused.")


def forget_old_nonces() -> int:
    horizon = timezone.now() - dt.timedelta(seconds=2 * settings.WARNING_WEBHOOK_TOLERANCE_SECONDS)
    deleted, _ = WebhookNonce.objects.filter(seen_at__lt=horizon).delete()
    return deleted
