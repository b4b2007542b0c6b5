"""What every fake provider API shares: a real HTTP server on 127.0.0.1 in a thread, and a
queue of scripted answers (the fakes in tests/fake_*.py subclass it; the real SDKs talk to
them over loopback, so only the network edge is replaced).

    class FakeThing(LoopbackFake):
        thread_name = "fake-thing"

        def __init__(self):
            self.requests = []
            super().__init__()            # last: the server starts from _handler_class()

        def _handler_class(self) -> type[BaseHTTPRequestHandler]: ...
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a scripted delay past its timeout) is not an error here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackFake:
    thread_name = "fake-provider"

    def __init__(self) -> None:
        self._script: deque[Any] = deque()
        self._lock = threading.Lock()
        self.server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name=self.thread_name, daemon=True)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, *answers: Any) -> None:
        """The next requests get these answers, in order (each fake says what answers mean)."""
        with self._lock:
            self._script.extend(answers)
