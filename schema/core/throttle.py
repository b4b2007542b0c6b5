"""Per-user and per-address rate limits for mutations, declared in their Meta:

    class Meta:
        throttle = Throttle("safety_answer", per_user=30)

A flood from one phone or one address is refused with a RATE_LIMITED error that says when to
retry, and never slows anyone else: the counters are token buckets shared by every process
(notifications.ratelimit, Redis when configured). The per-address limit is generous
(THROTTLE_PER_ADDRESS_PER_MINUTE) because many phones share an address behind carrier NAT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings

from notifications import ratelimit

from .errors import UserFacingError


@dataclass(frozen=True)
class Throttle:
    name: str
    per_user: int  # per minute
    per_address: int | None = None  # per minute; default THROTTLE_PER_ADDRESS_PER_MINUTE


def client_address(info) -> str:
    """The client's address as the ASGI server saw it (set --forwarded-allow-ips behind a proxy)."""
    meta = getattr(info.context, "META", None) or {}
    if meta.get("REMOTE_ADDR"):
        return meta["REMOTE_ADDR"]
    consumer = getattr(info.context, "consumer", None)  # over WebSocket
    client = (getattr(consumer, "scope", None) or {}).get("client") or [""]
    return client[0] or ""


def check_throttle(throttle: Throttle, info, user) -> None:
    per_address = throttle.per_address or settings.THROTTLE_PER_ADDRESS_PER_MINUTE
    keys = [(f"throttle:{throttle.name}:user:{getattr(user, 'pk', 'anon')}", throttle.per_user)]
    address = client_address(info)
    if address:
        keys.append((f"throttle:{throttle.name}:addr:{address}", per_address))
    for key, limit in keys:
        allowance = ratelimit.hit(key, limit=limit, period=60.0)
        if not allowance.allowed:
            seconds = max(1, math.ceil(allowance.retry_after))
            raise UserFacingError(f"Too many requests; try again in {seconds} seconds.", "RATE_LIMITED", retryAfter=seconds)
