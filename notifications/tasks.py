"""Celery tasks of the notifications app. Each takes IDs, does nothing when its work is already
done, and leaves the database consistent if it dies at any point (the sweep re-drives).

The life-safety variants (send_life_safety_sms, drain_life_safety) do the same work for the
login and life-safety lanes and are routed to the "life_safety" queue (CELERY_TASK_ROUTES),
which has workers of its own: a bulk job or a long import never holds them up.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TypedDict

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.utils import timezone

from core.enqueue import enqueue_later, enqueue_now

from . import delivery, devices, push_outbox, receipts, routing, voice_outbox
from .inbound import process_inbound_sms
from .lanes import Lane
from .models import InboundSms
from .outbox import DRAIN_LIFE_SAFETY, DRAIN_OUTBOX, SEND_LIFE_SAFETY_SMS, SEND_SMS

logger = logging.getLogger(__name__)

# Retries of transient failures are scheduled with a countdown well below the broker's
# visibility timeout (research R4.4); the database row keeps the real due time, and the
# sweep re-drives anything whose task was lost.
MAX_COUNTDOWN = 300


@worker_ready.connect  # type: ignore[untyped-decorator]  # celery ships no type information
def _warm_up_providers(**kwargs: object) -> None:
    """A worker builds its SMS providers' clients before the first message needs them."""
    routing.warm_up()


def _send(task: Task, message_id: int) -> str:
    outcome = delivery.deliver(message_id)
    if outcome.retry_in is not None:
        enqueue_later(task, message_id, countdown=min(outcome.retry_in, MAX_COUNTDOWN))
    return outcome.status


@shared_task(name=SEND_SMS, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def send_sms(message_id: int) -> str:
    """Send one outbox message now (if it is still queued and due)."""
    return _send(send_sms, message_id)


@shared_task(name=SEND_LIFE_SAFETY_SMS, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def send_life_safety_sms(message_id: int) -> str:
    """send_sms on the life-safety queue (login codes and life-safety messages)."""
    return _send(send_life_safety_sms, message_id)


def _drain(task: Task, route: str, *, life_safety: bool) -> int:
    slot = delivery.take_drain_slot(route, life_safety=life_safety)
    if slot is None:
        return 0  # enough drainers are running on this route
    if not life_safety and delivery.backlog_exceeds(max(2, _batch_size(route) * 8), route=route):
        enqueue_now(task, route)  # a big burst: recruit another drainer (up to SMS_MAX_DRAINERS)
    try:
        report = delivery.drain(route=route, max_lane=Lane.LIFE_SAFETY if life_safety else None,
                                max_seconds=settings.SMS_DRAIN_SECONDS,
                                heartbeat=lambda: delivery.keep_drain_slot(slot))
    finally:
        delivery.release_drain_slot(slot)
    for message_id, delay in report.retries:
        retry = send_life_safety_sms if message_id in report.life_safety_retries else send_sms
        enqueue_later(retry, message_id, countdown=min(delay, MAX_COUNTDOWN))
    if report.paused_for or report.come_back_in:
        enqueue_later(task, route, countdown=min(max(report.paused_for, report.come_back_in), MAX_COUNTDOWN))
    elif report.exhausted_time:
        enqueue_now(task, route)
    return report.attempted


def _batch_size(route: str) -> int:
    providers = routing.providers_for(route)
    return providers[0].batch_size if providers else 1


@shared_task(name=DRAIN_OUTBOX, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def drain_outbox(route: str = routing.ANY) -> int:
    """Send the route's backlog, most urgent first, at its providers' pace for up to
    SMS_DRAIN_SECONDS, then hand over to a fresh task (so other work gets worker time)."""
    return _drain(drain_outbox, route, life_safety=False)


@shared_task(name=DRAIN_LIFE_SAFETY, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def drain_life_safety(route: str = routing.ANY) -> int:
    """drain_outbox for the login and life-safety lanes only, on the life-safety queue."""
    return _drain(drain_life_safety, route, life_safety=True)


class SweepReport(TypedDict):
    recovered: int
    overdue: bool
    inbound: int


@shared_task(ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_outbox() -> SweepReport:
    """Periodic (CELERY_BEAT_SCHEDULE): recover rows stuck in "sending", restart draining
    routes whose queued rows wait with nobody sending them, and route inbound SMS whose
    processing task was lost (the broker was down when the webhook stored them)."""
    recovered = delivery.recover_stuck()
    overdue = delivery.overdue_routes()
    for route, life_safety in overdue.items():
        if life_safety:
            enqueue_now(drain_life_safety, route)
        enqueue_now(drain_outbox, route)
    if recovered and not overdue:
        for route in routing.route_keys():
            enqueue_now(drain_outbox, route)
    unrouted = unprocessed_inbound_ids()
    for inbound_id in unrouted:
        enqueue_now(process_inbound, inbound_id)
    return {"recovered": recovered, "overdue": bool(overdue), "inbound": len(unrouted)}


@shared_task(name="notifications.tasks.pull_sms_reports", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def pull_sms_reports() -> dict[str, int]:
    """Periodic: delivery receipts and replies from providers with pull APIs (Tencent)."""
    return receipts.pull_from_providers()


def unprocessed_inbound_ids(older_than_seconds: int = 30, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = InboundSms.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
    return list(pending.order_by("received_at").values_list("pk", flat=True)[:limit])


@shared_task(name=receipts.PROCESS_INBOUND, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=120, max_retries=5)  # type: ignore[untyped-decorator]  # celery ships no type information
def process_inbound(inbound_id: int) -> str:
    """Route one inbound SMS (keywords, replies to prompts); exactly once per MessageSid."""

    return process_inbound_sms(inbound_id)


# --- device pushes and voice calls (issue 15) -------------------------------------------------
def _drain_pushes(task: Task, provider: str, *, life_safety: bool) -> int:
    slot = push_outbox.take_drain_slot(provider, life_safety=life_safety)
    if slot is None:
        return 0  # a drainer of this provider is running: it keeps the pace
    try:
        report = push_outbox.drain(provider, max_lane=Lane.LIFE_SAFETY if life_safety else None,
                                   heartbeat=lambda: push_outbox.keep_drain_slot(slot))
    finally:
        push_outbox.release_drain_slot(slot)
    if report.exhausted_time:
        enqueue_now(task, provider)
    elif report.retry_in is not None:
        enqueue_later(task, provider, countdown=min(max(report.retry_in, 0.5), MAX_COUNTDOWN))
    return report.attempted


@shared_task(name=push_outbox.DRAIN_PUSHES, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def drain_pushes(provider: str) -> int:
    """Send the provider's queued pushes, most urgent first, at its pace."""
    return _drain_pushes(drain_pushes, provider, life_safety=False)


@shared_task(name=push_outbox.DRAIN_LIFE_SAFETY_PUSHES, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def drain_life_safety_pushes(provider: str) -> int:
    """drain_pushes for the login and life-safety lanes only, on the life-safety queue."""
    return _drain_pushes(drain_life_safety_pushes, provider, life_safety=True)


@shared_task(name=voice_outbox.DRAIN_CALLS, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def drain_calls(route: str) -> int:
    """Place the route's queued calls (life-safety queue: every call asks if someone is safe)."""
    report = voice_outbox.drain_calls(route)
    if report.exhausted_time:
        enqueue_now(drain_calls, route)
    elif report.retry_in is not None:
        enqueue_later(drain_calls, route, countdown=min(max(report.retry_in, 0.5), MAX_COUNTDOWN))
    return report.placed


@shared_task(name="notifications.tasks.sweep_pushes", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_pushes() -> dict[str, int]:
    """Periodic: pushes a dead worker left in "sending" back to the queue; providers whose
    queue nobody drains restarted; devices unseen for PUSH_DEVICE_TTL_DAYS deleted; calls
    whose final callback never came counted unanswered; forgotten call queues restarted."""
    recovered = push_outbox.recover_stuck()
    overdue = push_outbox.overdue_providers()
    for provider, life_safety in overdue.items():
        if life_safety:
            enqueue_now(drain_life_safety_pushes, provider)
        enqueue_now(drain_pushes, provider)
    calls = voice_outbox.recover_stuck()
    for route in voice_outbox.overdue_routes():
        enqueue_now(drain_calls, route)
    return {"recovered": recovered, "overdue": len(overdue), "expired_devices": devices.expire_devices(),
            "calls_timed_out": calls}
