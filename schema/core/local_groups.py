"""Group memberships per process, delivered locally: one channel-layer message per process and
group, however many of the process's sockets listen to that group.

Every socket used to join a group with its own channel, so an event to a grid with 2,000
subscribers was 2,000 copies in Redis, each read back by one consumer. Here each ASGI process
(each event loop, each channel layer) holds ONE channel of its own; it joins a group when its
first socket listens to it and leaves when its last one stops, receives each event once, and
hands it to its listening sockets in memory (GraphQLTransportWSConsumer.linli_event).
Memberships are re-added every WS_GROUP_REFRESH_SECONDS (a Redis restart forgets them; the
layer expires them otherwise).

    hub = await LocalGroups.of(channel_layer)
    await hub.join("area.7", consumer)      # consumer.linli_event(message) for each event
    await hub.leave("area.7", consumer)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


class Listener(Protocol):
    async def linli_event(self, message: dict[str, Any]) -> None: ...


class LocalGroups:
    _hubs: dict[tuple[int, int], LocalGroups] = {}

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[str, set[Listener]] = {}
        self.tasks: list[asyncio.Task] = []
        self._lock = asyncio.Lock()

    @classmethod
    async def of(cls, layer: Any) -> LocalGroups:
        """This event loop's hub for `layer` (created on first use)."""
        loop = asyncio.get_running_loop()
        key = (id(loop), id(layer))
        hub = cls._hubs.get(key)
        if hub is None or hub.layer is not layer:
            for stale in [k for k, h in cls._hubs.items() if k[0] == id(loop) or h._loop_closed()]:
                cls._hubs.pop(stale, None)
            hub = cls._hubs[key] = cls(layer)
            hub._loop = loop
        await hub._start()
        return hub

    _loop: asyncio.AbstractEventLoop | None = None

    def _loop_closed(self) -> bool:
        return self._loop is None or self._loop.is_closed()

    async def _start(self) -> None:
        if self.channel is not None:
            return
        async with self._lock:
            if self.channel is None:
                # The layer's default prefix: channels_redis reads every process-local channel
                # through one list per process, which a channel of another prefix would bypass.
                self.channel = await self.layer.new_channel()
                self.tasks = [asyncio.ensure_future(self._receive()), asyncio.ensure_future(self._refresh())]

    async def join(self, group: str, listener: Listener) -> None:
        members = self.members.get(group)
        if members is None:
            members = self.members[group] = set()
            members.add(listener)
            await self.layer.group_add(group, self.channel)
        else:
            members.add(listener)

    async def leave(self, group: str, listener: Listener) -> None:
        members = self.members.get(group)
        if members is None:
            return
        members.discard(listener)
        if not members:
            del self.members[group]
            try:
                await self.layer.group_discard(group, self.channel)
            except Exception:  # noqa: BLE001 - the layer may be down; the membership expires
                logger.warning("group_discard failed for %s", group)

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the layer may be down (ResilientRedisChannelLayer retries itself)
                logger.warning("process channel receive failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for listener in list(self.members.get(message.get("group") or "", ())):
                try:
                    await listener.linli_event(message)
                except Exception:  # one socket's trouble is not the others'
                    logger.exception("delivering an event to a socket failed")

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(settings.WS_GROUP_REFRESH_SECONDS)
            for group in list(self.members):
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:  # noqa: BLE001 - the layer may be down; try again next time
                    logger.warning("could not refresh this process's membership of %s", group)
                    break
