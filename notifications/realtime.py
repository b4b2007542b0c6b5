"""Publishing events to channel-layer groups, after commit.

The channel layer is at-most-once by design (a full or unreachable layer drops messages), so a
failed publish is logged and swallowed: the state change that caused it is already committed
and clients resync from queries. Publishing never fails a request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures.thread
import gc
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

logger = logging.getLogger(__name__)

# The consumer method that receives group messages (type "linli.event" -> linli_event).
GROUP_MESSAGE_TYPE = "linli.event"


def publish(groups: list[str] | str, event: dict[str, Any]) -> int:
    """Send `event` to each group now. Returns how many groups it was handed to."""
    if isinstance(groups, str):
        groups = [groups]
    layer = get_channel_layer()
    if layer is None:
        return 0
    if _exiting():
        # The process is exiting (a management command finished while the publishing thread
        # still held events): async_to_sync can no longer start a loop. Dropped quietly, as
        # the layer would drop them: the changes are committed and clients resync.
        logger.debug("process exiting: an event to %d group(s) not published", len(groups))
        return 0
    sent = 0
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, {"type": GROUP_MESSAGE_TYPE, "group": group, "event": event})
            sent += 1
        except Exception as exc:  # noqa: BLE001 - the layer may be down; pushes are hints
            if _exiting():  # began exiting since the check above
                # The coroutines async_to_sync made but could not run die with the traceback:
                # let them go here without a "never awaited" warning each.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    exc.__traceback__ = None
                    del exc
                    gc.collect()
                logger.debug("process exiting: events to %d group(s) not published", len(groups) - sent)
                return sent
            logger.warning("push to %s dropped (channel layer unavailable)", group, exc_info=True)
    return sent


def _exiting() -> bool:
    """The interpreter is shutting down: thread pools take no more work (the flag
    concurrent.futures sets at exit, before the publishing thread drains its queue; Python has
    no public one — main_thread().is_alive() is still True then)."""
    return bool(getattr(concurrent.futures.thread, "_shutdown", False)) or sys.is_finalizing()


# group_sends in flight at once during a mass publish (each is a couple of Redis round trips).
PUBLISH_CONCURRENCY = 64


def publish_many(messages: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Send each (group, event) now — thousands of them (a fan-out's per-user pushes) in ONE
    trip into an event loop, PUBLISH_CONCURRENCY group_sends in flight at a time, instead of
    one async_to_sync (a thread hand-off and a new loop) per message. Returns how many were
    handed over; a failed one is logged and skipped, as publish does."""
    pairs = list(messages)
    layer = get_channel_layer()
    if layer is None or not pairs:
        return 0

    async def send_all() -> int:
        sent = 0
        for start in range(0, len(pairs), PUBLISH_CONCURRENCY):
            batch = pairs[start:start + PUBLISH_CONCURRENCY]
            results = await asyncio.gather(
                *(layer.group_send(group, {"type": GROUP_MESSAGE_TYPE, "group": group, "event": event}) for group, event in batch),
                return_exceptions=True)
            failed = [group for (group, _), result in zip(batch, results, strict=True) if isinstance(result, BaseException)]
            if failed:
                logger.warning("pushes to %d groups dropped (channel layer unavailable), e.g. %s", len(failed), failed[0])
            sent += len(batch) - len(failed)
        return sent

    try:
        return async_to_sync(send_all)()
    except Exception:  # noqa: BLE001 - the layer may be down; pushes are hints
        logger.warning("a publish of %d messages failed (channel layer unavailable)", len(pairs), exc_info=True)
        return 0


def publish_on_commit(groups: list[str] | str, event: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits (immediately outside one) — from a
    background thread when REALTIME_PUBLISH_IN_BACKGROUND is on (the default), so that the
    request which committed answers without waiting for the channel layer: a mode switch's
    event to a grid's 2,000 subscribers is a few hundred milliseconds of Redis work."""
    transaction.on_commit(lambda: publish_soon(groups, event))


_publisher: ThreadPoolExecutor | None = None
_publisher_lock = threading.Lock()


_request = threading.local()  # per request: Django runs each request's sync code in a thread of its own


def publish_soon(groups: list[str] | str, event: dict[str, Any]) -> None:
    """publish, now or (REALTIME_PUBLISH_IN_BACKGROUND) from this process's one publishing
    thread, which keeps the order in which the process published. Inside a request (see
    PublishAfterResponseMiddleware) the events wait until its response has been sent: an event
    to a grid's thousands of sockets keeps the server's event loop busy for a while, and the
    request that caused it answers first."""
    if not settings.REALTIME_PUBLISH_IN_BACKGROUND:
        publish(groups, event)
        return
    held = getattr(_request, "held", None)
    if held is not None:
        held.append((groups, event))
        return
    _submit(groups, event)


def _submit(groups: list[str] | str, event: dict[str, Any]) -> None:
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="linli-publish")
        publisher = _publisher
    publisher.submit(publish, groups, event)


def wait_for_background_publishes(timeout: float = 10.0) -> None:
    """Block until what was handed to the publishing thread so far has gone (tests, shutdown)."""
    with _publisher_lock:
        publisher = _publisher
    if publisher is not None:
        publisher.submit(lambda: None).result(timeout)


def hold_until_response_sent() -> None:
    """From now until release_held(), this thread's publish_soon events wait (a request)."""
    release_held()  # anything a request left behind (its response never closed) goes now
    _request.held = []


def release_held(**_signal: object) -> None:
    """Send what this thread held back (request_finished: the response has been sent)."""
    held = getattr(_request, "held", None)
    _request.held = None
    for groups, event in held or ():
        _submit(groups, event)


class PublishAfterResponseMiddleware:
    """Holds the request's realtime events until its response has gone out (request_finished,
    which Django sends when the response is closed, after its last byte)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if settings.REALTIME_PUBLISH_IN_BACKGROUND:
            hold_until_response_sent()
        return self.get_response(request)
