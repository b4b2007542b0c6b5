"""Polling CAP feeds: a feed Linli is configured to read (a national or provincial warning
system's Atom index, or a single CAP document at a fixed address).

    poll_due_feeds() -> {code: PollResult}     # the periodic task
    poll_source(source) -> PollResult

Each poll is a conditional GET: If-None-Match with the ETag and If-Modified-Since with the
Last-Modified the feed sent last time, so an unchanged feed answers 304 and costs nothing.
An Atom feed's entries link to CAP documents (a link of type application/cap+xml, else the
entry's related or alternate link); each document not yet taken from this source is fetched
and ingested (ingest_cap de-duplicates by sender and identifier anyway). A document that is
not valid CAP is rejected and named in the source's last_error; a network failure leaves the
stored ETag as it was, so the next poll fetches the feed again. Failing feeds back off.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from lxml import etree

from ..cap import NS, parse_xml
from ..models import IncomingWarning, WarningSource, WarningSourceKind
from .cap_in import InvalidCap
from .ingest import ingest_cap

logger = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
CAP_TYPE = "application/cap+xml"
MAX_BACKOFF = dt.timedelta(hours=1)


class FeedError(Exception):
    """The feed or a document could not be fetched (network, HTTP status, size)."""


@dataclass
class PollResult:
    status: int | None = None
    not_modified: bool = False
    taken: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class Fetched:
    status: int
    etag: str
    last_modified: str
    body: bytes


def _get(url: str, headers: dict[str, str] | None = None) -> Fetched:
    """GET with explicit time-outs, reading at most WARNING_FEED_MAX_BYTES of the body."""
    limit = settings.WARNING_FEED_MAX_BYTES
    try:
        with requests.get(url, headers={"User-Agent": f"Linli/1 ({settings.CAP_SENDER})", **(headers or {})},
                          timeout=(settings.WARNING_FEED_CONNECT_TIMEOUT, settings.WARNING_FEED_TIMEOUT),
                          stream=True) as response:
            body = response.raw.read(limit + 1, decode_content=True)
            fetched = Fetched(response.status_code, response.headers.get("ETag", ""),
                              response.headers.get("Last-Modified", ""), body)
    except requests.RequestException as exc:
        raise FeedError(f"{type(exc).__name__}: {exc}"[:300])
    if len(fetched.body) > limit:
        raise FeedError(f"larger than {limit} bytes")
    return fetched


def _links(root: etree._Element, base: str) -> list[str]:
    """CAP documents an Atom feed (or an RSS 2.0 channel) points to, in feed order."""
    found: list[str] = []
    for entry in root.iter(f"{ATOM}entry"):
        links = entry.findall(f"{ATOM}link")
        # (An element without children is falsy in lxml: compare with None, never `or`.)
        chosen = next((lk for lk in links if lk.get("type") == CAP_TYPE), None)
        if chosen is None:
            chosen = next((lk for lk in links if lk.get("rel") in ("related", "alternate", None)), None)
        if chosen is not None and chosen.get("href"):
            found.append(urljoin(base, chosen.get("href", "")))
    for item in root.iter("item"):
        link = item.findtext("link")
        if link:
            found.append(urljoin(base, link.strip()))
    return list(dict.fromkeys(found))[: settings.WARNING_FEED_MAX_ENTRIES]


def poll_source(source: WarningSource, *, now: dt.datetime | None = None) -> PollResult:
    now = now or timezone.now()
    result = PollResult()
    headers = {"Accept": f"application/atom+xml, {CAP_TYPE}, application/xml;q=0.9"}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    fresh: Fetched | None = None
    try:
        fetched = _get(source.url, headers)
        result.status = fetched.status
        if fetched.status == 304:
            result.not_modified = True
        elif fetched.status != 200:
            raise FeedError(f"HTTP {fetched.status}")
        else:
            _take(source, fetched, result)
            fresh = fetched
    except FeedError as exc:
        result.error = str(exc)
    _record(source, result, fresh, now=now)
    return result


def _take(source: WarningSource, feed: Fetched, result: PollResult) -> None:
    try:
        root = parse_xml(feed.body)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"the feed is not XML: {exc}"[:300])
    if root.tag == f"{{{NS}}}alert":
        _ingest(source, feed.body, source.url, result)
        return
    for url in _links(root, source.url):
        if IncomingWarning.objects.filter(source=source, entry_url=url[:500]).exists():
            continue
        try:
            document = _get(url, {"Accept": f"{CAP_TYPE}, application/xml;q=0.9"})
        except FeedError as exc:
            result.failed.append(f"{url}: {exc}")
            continue
        if document.status != 200:
            result.failed.append(f"{url}: HTTP {document.status}")
            continue
        _ingest(source, document.body, url, result)


def _ingest(source: WarningSource, xml: bytes, url: str, result: PollResult) -> None:
    try:
        ingested = ingest_cap(xml, source=source, entry_url=url)
    except InvalidCap as exc:
        result.rejected.append(f"{url}: {exc}"[:500])
        logger.warning("CAP document from %s rejected: %s", source.code, str(exc)[:200])
        return
    if ingested.created:
        result.taken += 1
    else:
        result.duplicates += 1


def _record(source: WarningSource, result: PollResult, fresh: Fetched | None, *, now: dt.datetime) -> None:
    """The outcome on the source row, and when to poll next (backing off while it fails).
    The validators are kept only when everything the feed listed was taken."""
    failed = bool(result.error or result.failed)
    failures = source.failures + 1 if failed else 0
    values: dict[str, object] = {"last_polled_at": now, "last_status": result.status, "failures": failures,
                                 "last_error": (result.error or "; ".join(result.failed + result.rejected))[:500]}
    if fresh is not None and not failed:
        values.update(etag=fresh.etag[:255], last_modified=fresh.last_modified[:64])
    wait = dt.timedelta(seconds=source.poll_seconds)
    if failed:
        wait = min(wait * 2 ** min(failures, 6), max(MAX_BACKOFF, wait))
    values["next_poll_at"] = now + wait
    WarningSource.objects.filter(pk=source.pk).update(**values)
    for name, value in values.items():
        setattr(source, name, value)


def poll_due_feeds(*, now: dt.datetime | None = None) -> dict[str, PollResult]:
    """Every enabled feed whose time has come, each claimed first (a conditional UPDATE of
    next_poll_at), so two schedulers never poll one feed at once."""
    now = now or timezone.now()
    due = WarningSource.objects.filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now), kind=WarningSourceKind.CAP_FEED,
                                       is_enabled=True).exclude(url="")
    results = {}
    for source in due:
        lease = now + dt.timedelta(seconds=max(60, 3 * settings.WARNING_FEED_TIMEOUT))
        if not WarningSource.objects.filter(pk=source.pk, next_poll_at=source.next_poll_at).update(next_poll_at=lease):
            continue
        results[source.code] = poll_source(source, now=now)
    return results
