"""An asyncio event loop owned by a transport, running in a daemon thread.

Celery workers are synchronous; the HTTP/2 and aiohttp clients are asyncio. A transport
keeps one loop (and on it its connections) for the life of the process and submits each
batch to it from whichever worker thread calls send_batch().
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @property
    def usable(self) -> bool:
        """False in a forked child: the parent's loop thread does not exist there."""
        return self.pid == os.getpid() and self.thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coro` on the loop and wait for it (concurrent.futures.TimeoutError after `timeout`)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if not self.usable:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()
