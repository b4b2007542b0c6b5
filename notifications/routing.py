"""Which provider carries an SMS, at what pace, and where it goes when that provider fails.

    route_for("+8613800138000")  -> "+86"        # the SMS_ROUTES prefix it matches, else "*"
    providers_for("+86")         -> [aliyun, tencent]   # in failover order, paused ones left out

Routes are chosen by destination (settings.SMS_ROUTES: the longest matching prefix wins):
mainland numbers go to the domestic providers (Alibaba Cloud, Tencent Cloud: Twilio carries
no replies from them), every other number to Twilio. Each route lists its providers in order;
the second takes over while the first is paused. With no routes configured every message goes
to the "default" provider: settings.SMS_BACKEND at SMS_RATE_PER_SECOND, as before routes.

Each provider account has its own token bucket (SMS_PROVIDER_RATES, shared by every worker
through notifications.ratelimit). A provider is paused (a cache entry, so every worker sees
it) after an error an operator must fix — credentials, balance, an unapproved template —
for SMS_PROVIDER_COOLDOWN_SECONDS, with an ERROR log naming it; and after a call in which
every message was refused for a passing reason (throttled, connection refused) for
SMS_PROVIDER_PAUSE_SECONDS. While paused its route's next provider carries the messages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from . import ratelimit
from .transports import Transport, get_transport, transport_at
from .transports.base import TransportError

logger = logging.getLogger(__name__)

DEFAULT = "default"
ANY = "*"
MAINLAND = "+86"
LEGACY_BUCKET = "sms:send"  # the default provider's bucket, as before routes existed
_PAUSE_KEY = "linli:sms:provider-paused:{}"


@dataclass(frozen=True)
class Provider:
    """One provider account: its transport and its pace."""

    name: str
    transport: Transport
    rate: float  # messages per second
    burst: float
    bucket: str

    @property
    def batch_size(self) -> int:
        """Messages per claim and per call: about SMS_BATCH_SECONDS of the provider's rate,
        within what one call may carry (one for Twilio)."""
        share = int(self.rate * float(settings.SMS_BATCH_SECONDS))
        return max(1, min(self.transport.max_batch, int(settings.SMS_MAX_CLAIM), share or 1))

    @property
    def pace_rate(self) -> float:
        """What we send at: a little under the account's limit (SMS_PROVIDER_RATE_MARGIN). A
        provider counts its limit over a sliding second as calls reach it, and calls never
        arrive exactly on schedule: at the limit itself every late call would be throttled."""
        return self.rate * float(settings.SMS_PROVIDER_RATE_MARGIN)

    def try_pace(self, count: int) -> ratelimit.Allowance:
        """Take `count` tokens if they are there now; else how long until they are."""
        return ratelimit.take(self.bucket, rate=self.pace_rate, burst=max(self.burst, float(count)), tokens=count)

    def pace(self, count: int, *, timeout: float | None) -> bool:
        """Take `count` tokens from the account's bucket, waiting up to `timeout` seconds."""
        return ratelimit.acquire(self.bucket, rate=self.pace_rate, burst=max(self.burst, float(count)), tokens=count,
                                 timeout=timeout)


# --- routes ---------------------------------------------------------------------------------
def routes() -> dict[str, list[str]]:
    """Configured routes with at least one provider: prefix -> provider names."""
    configured = getattr(settings, "SMS_ROUTES", None) or {}
    return {str(prefix): [str(name) for name in names] for prefix, names in configured.items() if names}


def route_for(phone: str) -> str:
    """The route key of an E.164 number: its longest configured prefix, else "*"."""
    best = ""
    for prefix in routes():
        if prefix != ANY and phone.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return best or ANY


def route_keys() -> list[str]:
    """Every route a drainer may be needed for ("*" always)."""
    keys = [key for key in routes() if key != ANY]
    return [*keys, ANY]


def provider_names(route: str) -> list[str]:
    table = routes()
    names = table.get(route) or table.get(ANY) or [DEFAULT]
    if route.startswith(MAINLAND) and settings.SMS_MAINLAND_STAYS_DOMESTIC:
        # Cross-border (PIPL art. 38): mainland numbers and what is said to them stay with
        # domestic providers whenever the route has one; a foreign provider is no failover.
        domestic = [name for name in names if name not in settings.SMS_FOREIGN_PROVIDERS]
        return domestic or names
    return names


# --- providers ------------------------------------------------------------------------------
def provider(name: str) -> Provider:
    if name == DEFAULT:
        return Provider(DEFAULT, get_transport(), float(settings.SMS_RATE_PER_SECOND), float(settings.SMS_RATE_BURST),
                        LEGACY_BUCKET)
    backends: dict[str, str] = settings.SMS_PROVIDER_BACKENDS
    if name not in backends:
        raise LookupError(f"SMS provider {name!r} is not in SMS_PROVIDER_BACKENDS")
    rate = float(settings.SMS_PROVIDER_RATES.get(name, settings.SMS_RATE_PER_SECOND))
    burst = max(1.0, rate * float(settings.SMS_BATCH_SECONDS))
    return Provider(name, transport_at(backends[name]), rate, burst, f"sms:provider:{name}")


def providers_for(route: str) -> list[Provider]:
    """The route's providers not paused now, in failover order."""
    return [provider(name) for name in provider_names(route) if not is_paused(name)]


def transport_named(name: str) -> Transport:
    """The transport that carried a message (for reconciling and reading its codes); the
    default provider's when the name is unknown (rows from before routes)."""
    try:
        return provider(name or DEFAULT).transport
    except LookupError:
        return get_transport()


def known_providers() -> list[str]:
    names: list[str] = []
    for route in route_keys():
        for name in provider_names(route):
            if name not in names:
                names.append(name)
    return names


def warm_up() -> list[str]:
    """Build every routed provider's client now (a worker starting), so the first
    life-safety message does not wait for an SDK to import (Aliyun's takes a second or more).
    Returns the providers that could not be built (logged: their settings are wrong)."""
    broken = []
    for name in known_providers():
        try:
            provider(name)
        except Exception:  # ImproperlyConfigured and whatever an SDK raises: reported, not fatal
            logger.exception("SMS provider %s cannot be built; its routes fail over", name)
            broken.append(name)
    return broken


# --- pausing a provider -----------------------------------------------------------------------
def pause(name: str, seconds: float, *, error: TransportError) -> None:
    """Take a provider out of its routes for `seconds` (every worker sees it)."""
    until = time.time() + seconds
    key = _PAUSE_KEY.format(name)
    first = cache.add(key, until, timeout=max(1, int(seconds + 1)))
    if not first:
        cache.set(key, max(until, float(cache.get(key) or 0)), timeout=max(1, int(seconds + 1)))
    if error.operator and first:
        # An operator must act (credentials, balance, template approval): say so loudly, once.
        logger.error("SMS provider %s needs an operator: %s (code %s); its routes fail over for %ss",
                     name, error.message[:200], error.code, int(seconds))
    elif first:
        logger.warning("SMS provider %s paused for %.1fs: %s", name, seconds, error.code or error.message[:100])


def is_paused(name: str) -> bool:
    until = cache.get(_PAUSE_KEY.format(name))
    return until is not None and float(until) > time.time()


def seconds_until_available(route: str) -> float:
    """How long until one of the route's providers is back (0 when one is available)."""
    now = time.time()
    waits = []
    for name in provider_names(route):
        until = cache.get(_PAUSE_KEY.format(name))
        waits.append(max(0.0, float(until) - now) if until is not None else 0.0)
    return min(waits) if waits else 0.0


def resume(names: Iterable[str]) -> None:
    """Forget pauses (an operator fixed the account; tests)."""
    for name in names:
        cache.delete(_PAUSE_KEY.format(name))
