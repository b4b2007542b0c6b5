"""A fake public warning system publishing CAP: a real HTTP server on loopback, in a thread.

It serves what such systems serve — an Atom index (/feed.atom) whose entries link to CAP
documents (/alerts/<identifier>.xml, type application/cap+xml) — with the conditional GET
they support: a strong ETag answered by If-None-Match and Last-Modified answered by
If-Modified-Since with 304 Not Modified. The app's poller (emergency.warnings.feeds) talks
to it with the real `requests` library; a WarningSource's url points at it.

    def test_something(fake_cap_feed):
        fake_cap_feed.publish("id-1", cap_bytes)       # a new entry (the feed's ETag changes)
        fake_cap_feed.fail("/alerts/id-1.xml", 503)    # that document answers 503 from now on
        fake_cap_feed.requests                         # [(method, path, headers)] in order
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler

import pytest

from tests.loopback import LoopbackFake

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>市气象台预警</title>
  <id>urn:fake:cap</id>
  <updated>{updated}</updated>
{entries}
</feed>"""
ENTRY = """  <entry>
    <id>urn:fake:{identifier}</id>
    <title>{identifier}</title>
    <updated>{updated}</updated>
    <link rel="alternate" type="text/html" href="/html/{identifier}"/>
    <link rel="related" type="application/cap+xml" href="/alerts/{identifier}.xml"/>
  </entry>"""


class FakeCapFeed(LoopbackFake):
    thread_name = "fake-cap-feed"

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}  # identifier -> CAP document, in publication order
        self.failures: dict[str, int] = {}  # path -> HTTP status to answer
        self.raw_feed: bytes | None = None  # served as /feed.atom instead of the index, when set
        self.modified = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        super().__init__()  # last: the server starts from _handler_class()

    def publish(self, identifier: str, document: bytes) -> None:
        with self._lock:
            self.documents[identifier] = document
            self.modified += timedelta(minutes=1)

    def fail(self, path: str, status: int) -> None:
        self.failures[path] = status

    def feed(self) -> bytes:
        if self.raw_feed is not None:
            return self.raw_feed
        stamp = self.modified.isoformat()
        entries = "\n".join(ENTRY.format(identifier=i, updated=stamp) for i in reversed(list(self.documents)))
        return ATOM.format(updated=stamp, entries=entries).encode()

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.feed()).hexdigest()[:16] + '"'

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for _, p, headers in self.requests if p == path]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(("GET", self.path, dict(self.headers.items())))
                if self.path in fake.failures:
                    return self._send(fake.failures[self.path], b"unavailable", "text/plain")
                if self.path == "/feed.atom":
                    return self._feed()
                if self.path.startswith("/alerts/") and self.path.endswith(".xml"):
                    document = fake.documents.get(self.path[len("/alerts/"):-len(".xml")])
                    if document is not None:
                        return self._send(200, document, "application/cap+xml")
                return self._send(404, b"not found", "text/plain")

            def _feed(self) -> None:
                etag, modified = fake.etag(), fake.modified
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, etag=etag)
                since = self.headers.get("If-Modified-Since")
                if since and "If-None-Match" not in self.headers and parsedate_to_datetime(since) >= modified:
                    return self._send(304, b"", None, etag=etag)
                return self._send(200, fake.feed(), "application/atom+xml", etag=etag,
                                  last_modified=format_datetime(modified, usegmt=True))

            def _send(self, status: int, body: bytes, content_type: str | None, *, etag: str | None = None,
                      last_modified: str | None = None) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                if etag:
                    self.send_header("ETag", etag)
                if last_modified:
                    self.send_header("Last-Modified", last_modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler


@pytest.fixture
def fake_cap_feed():
    fake = FakeCapFeed().start()
    yield fake
    fake.stop()
