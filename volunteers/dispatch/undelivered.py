"""An offer whose SMS will not reach its person moves dispatch on at once.

    register_delivery_handler("task_offer", failed=offers_undeliverable)   # volunteers/apps.py

When an offer's SMS fails for good (an invalid or dead number, a carrier's "undelivered",
the number opted out after the offer was made) and SMS was the volunteer's only channel,
waiting for the offer's deadline would only waste the answer window of a task that may be a
matter of life and death: the offer is closed now (EXPIRED, with an UNDELIVERABLE event on the
timeline; it does not count against the volunteer's reliability) and the task's next offer
goes out at once. Someone who also uses the app keeps the offer: the push may still reach them.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from notifications.models import SmsMessage
from notifications.outbox import supersede_messages

from ..models import DISPATCHABLE_STATUSES, ContactChannel, Offer, OfferStatus, TaskEventKind
from . import timeline
from .state import lock_task, schedule_wave

logger = logging.getLogger(__name__)


def offers_undeliverable(messages: list[SmsMessage]) -> None:
    """notifications.outcomes handler (failed) for purpose "task_offer"."""
    codes = {_int(m.related_id): m.error_code for m in messages}
    offers = (Offer.objects.filter(pk__in=[pk for pk in codes if pk is not None], status=OfferStatus.PENDING)
              .select_related("volunteer"))
    now = timezone.now()
    for offer in offers:
        if offer.volunteer is None or offer.volunteer.contact_channel != ContactChannel.SMS:
            continue  # the app may still reach them
        close_undeliverable(offer, code=codes.get(offer.pk) or "", now=now)


def close_undeliverable(offer: Offer, *, code: str, now: dt.datetime) -> bool:
    """Close one pending offer nobody can receive and send the task's next offer; True if
    it was still pending (an answer or the sweep may have decided it first)."""
    with transaction.atomic():
        # Offer first, then task: the lock order every path keeps (services/offers.py).
        if not Offer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING).update(status=OfferStatus.EXPIRED, closed_at=now):
            return False
        offer.status, offer.closed_at = OfferStatus.EXPIRED, now
        supersede_messages(offer, reason="offer undeliverable")  # a push still queued offers what is gone
        task = lock_task(offer.task_id)
        timeline.record(task, TaskEventKind.UNDELIVERABLE, offer=offer, wave=offer.wave, at=now, code=code[:32])
        timeline.publish_offer(offer)
        if task.auto_dispatch and task.places_left > 0 and task.status in DISPATCHABLE_STATUSES:
            schedule_wave(task, now)
    logger.info("offer %s: SMS undeliverable (%s); task %s moves on", offer.pk, code, offer.task_id)
    return True


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
