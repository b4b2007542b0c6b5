"""Token buckets shared by every process: Redis when configured, in-process otherwise.

    take("sms:twilio", rate=1.0, burst=1)        -> Allowance(allowed, retry_after)
    acquire("sms:twilio", rate=200, timeout=5)   -> True once a token was taken (sleeps)
    hit("login:phone:+86...", limit=5, period=3600)  -> at most 5 per hour, refilling evenly

A bucket holds up to `burst` tokens and refills at `rate` tokens per second. On Redis the
refill and the take are one Lua script using the Redis clock, so all workers on all machines
share one bucket and one clock. If Redis is unreachable the in-process bucket takes over
(pacing per process is better than none) and a warning is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    retry_after: float = 0.0  # seconds until a token is available (0 when allowed)


_TAKE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1])
local ts = tonumber(data[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= want then tokens = tokens - want else wait = (want - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return tostring(wait)
"""


class LocalBuckets:
    """Buckets in this process (embedded footing, or Redis unreachable)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, burst: float, want: float) -> float:
        with self._lock:
            now = time.monotonic()
            tokens, ts = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - ts) * rate)
            wait = 0.0
            if tokens >= want:
                tokens -= want
            else:
                wait = (want - tokens) / rate
            self._buckets[key] = (tokens, now)
            return wait

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


class RedisBuckets:
    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.script = self.client.register_script(_TAKE_LUA)

    def take(self, key: str, rate: float, burst: float, want: float) -> float:
        ttl_ms = int(max(1.0, burst / rate) * 1000) + 60_000
        return float(self.script(keys=[key], args=[rate, burst, want, ttl_ms]))


_local = LocalBuckets()


@lru_cache(maxsize=4)
def _redis_buckets(url: str) -> RedisBuckets:
    return RedisBuckets(url)


def _redis_url() -> str:
    return getattr(settings, "RATE_LIMIT_REDIS_URL", "") or ""


def _full_key(key: str) -> str:
    return f"{getattr(settings, 'RATE_LIMIT_PREFIX', 'linli:rl:')}{key}"


def take(key: str, *, rate: float, burst: float = 1.0, tokens: float = 1.0) -> Allowance:
    """Take `tokens` now if the bucket has them; never blocks."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    burst = max(burst, tokens)
    full_key = _full_key(key)
    url = _redis_url()
    if url:
        try:
            wait = _redis_buckets(url).take(full_key, rate, burst, tokens)
            return Allowance(wait <= 0, wait)
        except Exception:  # noqa: BLE001 - fall back to local pacing, never to none
            logger.warning("rate limiter: Redis unavailable, using the in-process bucket for %s", key)
    wait = _local.take(full_key, rate, burst, tokens)
    return Allowance(wait <= 0, wait)


def acquire(key: str, *, rate: float, burst: float = 1.0, timeout: float | None = None, tokens: float = 1.0) -> bool:
    """Wait until `tokens` are taken at once (True) or `timeout` seconds pass (False)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        allowance = take(key, rate=rate, burst=burst, tokens=tokens)
        if allowance.allowed:
            return True
        pause = allowance.retry_after
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            pause = min(pause, remaining)
        time.sleep(max(pause, 0.0005))


def hit(key: str, *, limit: int, period: float) -> Allowance:
    """Count one event against "at most `limit` per `period` seconds" (refilling evenly)."""
    return take(key, rate=limit / period, burst=float(limit))


def clear_local() -> None:
    """Forget in-process buckets (tests)."""
    _local.clear()
