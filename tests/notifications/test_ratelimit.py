"""Token buckets: the SMS pace and the login throttles, shared by every worker through Redis
(or in-process on the embedded footing)."""

import threading
import time

import pytest

from notifications import ratelimit


def test_a_bucket_allows_its_burst_then_asks_to_wait():
    results = [ratelimit.take("t:burst", rate=1.0, burst=3) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert 0.9 < results[3].retry_after <= 1.0


def test_hit_means_at_most_limit_per_period():
    assert [ratelimit.hit("t:hit", limit=2, period=3600).allowed for _ in range(3)] == [True, True, False]


def test_buckets_are_independent_per_key():
    assert ratelimit.take("t:a", rate=1, burst=1).allowed and ratelimit.take("t:b", rate=1, burst=1).allowed


def test_acquire_paces_callers_at_the_rate():
    start = time.monotonic()
    for _ in range(11):
        assert ratelimit.acquire("t:pace", rate=50, burst=1, timeout=5)
    assert time.monotonic() - start >= 10 / 50 * 0.95


def test_acquire_gives_up_at_its_timeout():
    ratelimit.take("t:slow", rate=0.1, burst=1)
    assert ratelimit.acquire("t:slow", rate=0.1, burst=1, timeout=0.05) is False


def test_threads_share_one_bucket():
    taken = []

    def worker():
        for _ in range(5):
            taken.append(ratelimit.take("t:threads", rate=0.001, burst=10).allowed)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert taken.count(True) == 10


@pytest.mark.redis
def test_on_redis_separate_clients_share_the_bucket(settings):
    """Two independent connections (as two worker processes would have) see one bucket."""
    ratelimit._redis_buckets.cache_clear()
    first = ratelimit.RedisBuckets(settings.RATE_LIMIT_REDIS_URL)
    second = ratelimit.RedisBuckets(settings.RATE_LIMIT_REDIS_URL)
    key = f"{settings.RATE_LIMIT_PREFIX}shared"
    assert first.take(key, 1.0, 2, 1) == 0 and second.take(key, 1.0, 2, 1) == 0
    assert first.take(key, 1.0, 2, 1) > 0.9


def test_an_unreachable_redis_falls_back_to_local_pacing(settings, caplog):
    settings.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:1/0"
    ratelimit._redis_buckets.cache_clear()
    assert [ratelimit.take("t:down", rate=1, burst=1).allowed for _ in range(2)] == [True, False]
    assert "Redis unavailable" in caplog.text
