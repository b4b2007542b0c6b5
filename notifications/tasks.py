"""Celery tasks of the notifications app. Each takes IDs, does nothing when its work is already
done, and leaves the database consistent if it dies at any point (the sweep re-drives)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TypedDict

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.enqueue import enqueue_later, enqueue_now

from . import delivery
from .inbound import process_inbound_sms
from .models import InboundSms
from .outbox import DRAIN_OUTBOX, SEND_SMS

logger = logging.getLogger(__name__)

# Retries of transient failures are scheduled with a countdown well below the broker's
# visibility timeout (research R4.4); the database row keeps the real due time, and the
# sweep re-drives anything whose task was lost.
MAX_COUNTDOWN = 300


@shared_task(name=SEND_SMS, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def send_sms(message_id: int) -> str:
    """Send one outbox message now (if it is still queued and due)."""
    outcome = delivery.deliver(message_id)
    if outcome.retry_in is not None:
        enqueue_later(send_sms, message_id, countdown=min(outcome.retry_in, MAX_COUNTDOWN))
    return outcome.status


@shared_task(name=DRAIN_OUTBOX, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def drain_outbox() -> int:
    """Send the backlog at the shared pace for up to SMS_DRAIN_SECONDS, then hand over to a
    fresh task (so other work gets worker time during a long burst)."""
    slot = delivery.take_drain_slot()
    if slot is None:
        return 0  # enough drainers are running
    if delivery.backlog_exceeds(int(settings.SMS_RATE_PER_SECOND * 2) + 1):
        enqueue_now(drain_outbox)  # a big burst: recruit another drainer (up to SMS_MAX_DRAINERS)
    try:
        report = delivery.drain(max_seconds=settings.SMS_DRAIN_SECONDS, heartbeat=lambda: delivery.keep_drain_slot(slot))
    finally:
        delivery.release_drain_slot(slot)
    for message_id, delay in report.retries:
        enqueue_later(send_sms, message_id, countdown=min(delay, MAX_COUNTDOWN))
    if report.exhausted_time:
        enqueue_now(drain_outbox)
    return report.attempted


class SweepReport(TypedDict):
    recovered: int
    overdue: bool
    inbound: int


@shared_task(ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_outbox() -> SweepReport:
    """Periodic (CELERY_BEAT_SCHEDULE): recover rows stuck in "sending", restart draining
    when queued rows wait with nobody sending them, and route inbound SMS whose processing
    task was lost (the broker was down when the webhook stored them)."""
    recovered = delivery.recover_stuck()
    overdue = delivery.has_overdue()
    if recovered or overdue:
        enqueue_now(drain_outbox)
    unrouted = unprocessed_inbound_ids()
    for inbound_id in unrouted:
        enqueue_now(process_inbound, inbound_id)
    return {"recovered": recovered, "overdue": overdue, "inbound": len(unrouted)}


def unprocessed_inbound_ids(older_than_seconds: int = 30, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = InboundSms.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
    return list(pending.order_by("received_at").values_list("pk", flat=True)[:limit])


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=120, max_retries=5)  # type: ignore[untyped-decorator]  # celery ships no type information
def process_inbound(inbound_id: int) -> str:
    """Route one inbound SMS (keywords, replies to prompts); exactly once per MessageSid."""

    return process_inbound_sms(inbound_id)
