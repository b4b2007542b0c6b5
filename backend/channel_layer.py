"""Channel layers: a thread-safe in-memory one (embedded footing) and a Redis one that
survives Redis restarts (services footing).

In-memory channel layer that is safe to send to from other threads.

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the event loop that reads
them. On the embedded footing the in-process Celery worker (and test threads) publish from
other threads with their own loops; their sends are handed to the reading loop with
run_coroutine_threadsafe so waiting consumers wake up. Within one loop it behaves exactly
like the original.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._home_loop: asyncio.AbstractEventLoop | None = None

    def _foreign(self) -> asyncio.AbstractEventLoop | None:
        home = self._home_loop
        if home is None or home.is_closed() or not home.is_running():
            return None
        return home if asyncio.get_running_loop() is not home else None

    async def receive(self, channel):
        if self._home_loop is None or self._home_loop.is_closed() or not self._home_loop.is_running():
            self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def send(self, channel, message):
        home = self._foreign()
        if home is not None:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().send(channel, message), home))
        return await super().send(channel, message)

    async def group_send(self, group, message):
        home = self._foreign()
        if home is not None:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().group_send(group, message), home))
        return await super().group_send(group, message)


class ResilientRedisChannelLayer(RedisChannelLayer):
    """channels_redis, with a receive that survives a Redis restart.

    When Redis goes away, the stock receive raises and takes the WebSocket consumer (and its
    socket) down with it; this one waits and retries with backoff, so sockets stay open
    through a restart. Group memberships are lost with a Redis restart (it keeps nothing on
    disk); consumers re-add theirs periodically (notifications.consumers), so no subscriber
    stays deaf. Pushes missed meanwhile are hints only: clients resync by query.
    """

    async def receive(self, channel):
        delay = 0.1
        while True:
            try:
                return await super().receive(channel)
            except (RedisError, OSError) as exc:
                logger.warning("channel layer receive failed (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
