"""A fake Nominatim on loopback: geopy's real Nominatim geocoder talks HTTP to it.

Tell it what to answer per address (`places`), or to fail (`mode`: "ok", "error", "slow").
It records every request (path, query, user agent, time).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeNominatim:
    def __init__(self):
        self.places: dict[str, tuple[float, float]] = {}
        self.mode = "ok"
        self.slow_seconds = 2.0
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append({"path": url.path, "query": query, "user_agent": self.headers.get("User-Agent"), "at": time.monotonic()})
                if fake.mode == "error":
                    self._send(500, {"error": "internal"})
                    return
                if fake.mode == "slow":
                    time.sleep(fake.slow_seconds)
                point = fake.places.get(query.get("q", ""))
                self._send(200, [] if point is None else [_place(query["q"], *point)])

            def _send(self, status, body):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeNominatim:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _place(name: str, lat: float, lng: float) -> dict:
    return {
        "place_id": 1, "licence": "test", "osm_type": "node", "osm_id": 1,
        "lat": str(lat), "lon": str(lng), "display_name": name, "class": "place", "type": "house",
        "importance": 0.5, "boundingbox": [str(lat - 0.001), str(lat + 0.001), str(lng - 0.001), str(lng + 0.001)],
    }
