"""What became of an SMS, told to the app that sent it (the call turned around, as
notifications.inbound.register_reply_handler does for replies: notifications imports no app
above it).

    register_delivery_handler("safety_check", handed_over=..., delivered=..., failed=...)

Each handler takes a list of SmsMessage rows of that purpose (a batch as the worker or a
callback settled them) and runs after their status was recorded, in its own transaction; an
exception is logged and never undoes the delivery record.

- handed_over: a provider accepted them (status SENT): the person can have them now.
- delivered: the carrier says they reached the handset.
- failed: they will not reach the person — failed for good (a permanent error or the
  attempts used up), undelivered by the carrier, or refused at send time (the number opted
  out or was marked unreachable after it was queued). Not called for refusals at queue
  time: the caller sees those rows REFUSED at once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

from .models import SmsMessage

logger = logging.getLogger(__name__)

Batch = Callable[[list[SmsMessage]], None]


@dataclass(frozen=True)
class DeliveryHandlers:
    handed_over: Batch | None = None
    delivered: Batch | None = None
    failed: Batch | None = None


_handlers: dict[str, DeliveryHandlers] = {}


def register_delivery_handler(purpose: str, *, handed_over: Batch | None = None, delivered: Batch | None = None,
                              failed: Batch | None = None) -> None:
    """Handlers for messages of `purpose` (replacing any registered before)."""
    _handlers[purpose] = DeliveryHandlers(handed_over, delivered, failed)


def _dispatch(kind: str, messages: Iterable[SmsMessage]) -> None:
    by_purpose: dict[str, list[SmsMessage]] = defaultdict(list)
    for message in messages:
        by_purpose[message.purpose].append(message)
    for purpose, batch in by_purpose.items():
        handlers = _handlers.get(purpose)
        handler = getattr(handlers, kind, None) if handlers is not None else None
        if handler is None:
            continue
        try:
            with transaction.atomic():
                handler(batch)
        except Exception:
            logger.exception("SMS %s handler for %r failed on %d message(s)", kind, purpose, len(batch))


def handed_over(messages: Iterable[SmsMessage]) -> None:
    _dispatch("handed_over", messages)


def delivered(messages: Iterable[SmsMessage]) -> None:
    _dispatch("delivered", messages)


def failed(messages: Iterable[SmsMessage]) -> None:
    _dispatch("failed", messages)
