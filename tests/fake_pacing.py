"""Shared by the push fakes: a provider's acceptance rate, and running a fake in a child
process (benchmarks: the fake must not share the client's interpreter lock)."""

from __future__ import annotations

import threading
import time
from typing import Any


class Pacer:
    """Accepts at most `rate` requests per second (None: unlimited): delay() says how long the
    caller must wait before answering, so a burst queues up like at a busy provider."""

    def __init__(self, rate: float | None = None) -> None:
        self.rate = rate
        self._next = 0.0
        self._lock = threading.Lock()

    def delay(self) -> float:
        if not self.rate:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self.rate
            return slot - now


def serve_in_child(factory: Any, connection: Any, kwargs: dict[str, Any]) -> None:
    """Target of a multiprocessing.Process: start factory(**kwargs), send its `describe()`,
    then answer "stats" with `stats()` until "stop"."""
    fake = factory(**kwargs).start()
    connection.send(fake.describe())
    try:
        while True:
            command = connection.recv()
            if command == "stop":
                break
            if command == "stats":
                connection.send({**fake.stats(), "cpu_seconds": round(time.process_time(), 2)})
    finally:
        fake.stop()
