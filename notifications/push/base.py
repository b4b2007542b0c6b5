"""What every device push transport looks like: one small class per provider, batch in,
one result per message out (in the same order).

The push outbox (another module) claims rows, builds PushMessages and hands a batch to
`PushTransport.send_batch`; it decides about retries, pruning dead devices and pacing from
the PushError flags below, never from provider-specific codes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

PLATFORMS = ("ios", "android")
PRIORITIES = ("high", "normal")


@dataclass(frozen=True)
class PushMessage:
    push_id: int  # our outbox row id: logs, apns-id, JPush sendno
    token: str  # APNs device token / FCM registration token / JPush registration_id
    platform: str  # "ios" | "android"
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)  # strings only (FCM refuses others)
    collapse_key: str = ""  # a newer push with the same key replaces the older one on the phone
    priority: str = "high"  # "high" | "normal"
    ttl_seconds: int = 3600
    sound: str = "default"
    badge: int | None = None
    critical: bool = False  # life-safety: iOS critical alert, only with the entitlement setting

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise ValueError(f"platform must be one of {PLATFORMS}, not {self.platform!r}")
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {self.priority!r}")
        if any(not isinstance(k, str) or not isinstance(v, str) for k, v in self.data.items()):
            raise ValueError("push data keys and values must be strings")
        if self.ttl_seconds < 0:
            raise ValueError("ttl_seconds must not be negative")


@dataclass(frozen=True)
class PushResult:
    provider_id: str  # apns-id / FCM message name / JPush msg_id


class PushError(Exception):
    """A push that did not succeed.

    permanent: retrying the same message cannot help (payload refused, bad topic, ...).
    invalid_token: the provider says this token is dead: prune the device (implies permanent).
    operator: our credentials or configuration were refused (wrong key, topic, project,
        IP allow-list). Every message to this provider fails alike until an operator acts, so
        the integrator should stop the provider's lane and alert, not retry or prune.
    retry_after: seconds the provider asked us to wait (429 Retry-After, JPush X-Rate-Limit-Reset).
    """

    def __init__(
        self,
        message: str,
        code: str = "",
        *,
        permanent: bool = False,
        invalid_token: bool = False,
        retry_after: float | None = None,
        operator: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = str(code or "")
        self.permanent = permanent or invalid_token or operator
        self.invalid_token = invalid_token
        self.retry_after = retry_after
        self.operator = operator

    @property
    def transient(self) -> bool:
        return not self.permanent

    def __repr__(self) -> str:
        flags = [name for name in ("permanent", "invalid_token", "operator") if getattr(self, name)]
        wait = f", retry_after={self.retry_after}" if self.retry_after is not None else ""
        return f"PushError({self.message!r}, code={self.code!r}, {'|'.join(flags) or 'transient'}{wait})"


PushOutcome = PushResult | PushError


class PushTransport:
    """Hands batches of pushes to one provider. Thread-safe: one instance per process serves
    every worker thread (get_push_transport caches it)."""

    name = "base"
    max_batch: int = 500

    def __init__(self, provider: str = "") -> None:
        self.provider = provider or self.name

    def send_batch(self, messages: list[PushMessage]) -> list[PushOutcome]:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections and threads; the instance may be used again afterwards."""


def mask_token(token: str) -> str:
    """Device tokens identify a phone: logs show only their ends."""
    if len(token) <= 8:
        return "*" * len(token)
    return f"{token[:4]}…{token[-4:]}"


def short_collapse_key(key: str, limit: int = 64) -> str:
    """Provider limits are in bytes (APNs apns-collapse-id: 64). A longer key is replaced by
    a stable digest, so the same long key still collapses with itself."""
    if len(key.encode()) <= limit:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:limit]
