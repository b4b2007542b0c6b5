"""What providers tell us after a send: delivery receipts and the replies people text back,
from Twilio's status callbacks, the domestic providers' callbacks (notifications/webhooks.py)
and Tencent's pull APIs (pull_from_providers, a periodic task). All of them land in the same
status machine (delivery.advance), the same opt-out and unreachable bookkeeping, and — for
replies — the same InboundSms rows and reply router as Twilio's inbound webhook.

    record_provider_status(sid="SM...", provider_status="delivered", message_id=12)   # Twilio
    record_receipts("aliyun", [DeliveryReceipt(...), ...])
    store_replies("tencent", [InboundReply(...), ...])   # -> InboundSms, routed after commit
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from core.enqueue import enqueue_on_commit
from core.text import strip_unprintable

from . import outcomes, routing, unreachable
from .consent import opt_out
from .handover import CONTENT_REVIEW_CODES
from .models import InboundSms, SmsMessage, SmsStatus
from .outbox import normalize_phone
from .status import advance
from .transports import DeliveryReceipt, InboundReply, TransportError

logger = logging.getLogger(__name__)

PROCESS_INBOUND = "notifications.tasks.process_inbound"
MAX_INBOUND_BODY = 1600  # Twilio's own limit for a concatenated SMS

PROVIDER_STATUS = {
    "accepted": SmsStatus.SENT,
    "scheduled": SmsStatus.SENT,
    "queued": SmsStatus.SENT,
    "sending": SmsStatus.SENT,
    "sent": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "read": SmsStatus.DELIVERED,
    "undelivered": SmsStatus.UNDELIVERED,
    "failed": SmsStatus.FAILED,
    "canceled": SmsStatus.FAILED,
}


def record_provider_status(*, sid: str, provider_status: str, error_code: str = "", message_id: int | None = None,
                           provider: str = "twilio") -> bool:
    """Apply a status callback. True if it moved the message forward; duplicates and late
    arrivals are no-ops. The callback URL carries our message id, so a callback that beats
    the worker's SID write still finds its message."""
    to_status = PROVIDER_STATUS.get((provider_status or "").lower())
    if to_status is None:
        logger.warning("status callback with unknown status %r ignored", provider_status)
        return False
    qs = SmsMessage.objects.filter(pk=message_id) if message_id else SmsMessage.objects.filter(provider_sid=sid)
    message = qs.first()
    if message is None:
        return False
    return _apply(message, to_status, sid=sid, provider_status=provider_status.lower(), error_code=str(error_code or ""),
                  provider=message.provider or provider)


def record_receipts(provider: str, receipts: Iterable[DeliveryReceipt]) -> int:
    """Apply a provider's delivery receipts (matched by SID, else by our id echoed in
    OutId/SessionContext and the phone); returns how many moved a message."""
    moved = 0
    receipts = list(receipts)
    by_sid: dict[str, SmsMessage] = {}
    sids = [r.sid for r in receipts if r.sid]
    for start in range(0, len(sids), 900):
        for found in SmsMessage.objects.filter(provider_sid__in=sids[start:start + 900]):
            if found.provider_sid:
                by_sid[found.provider_sid] = found
    for receipt in receipts:
        message = by_sid.get(receipt.sid)
        if message is None and receipt.message_id:
            message = SmsMessage.objects.filter(pk=receipt.message_id, phone=receipt.phone).first()
        if message is None:
            logger.info("%s receipt for an unknown message ignored", provider)
            continue
        to_status = PROVIDER_STATUS.get(receipt.status, SmsStatus.UNDELIVERED)
        sid = receipt.sid if message.provider_sid in (None, receipt.sid) else None
        moved += _apply(message, to_status, sid=sid, provider_status=receipt.status, error_code=receipt.error_code,
                        provider=message.provider or provider)
    return moved


def _apply(message: SmsMessage, to_status: str, *, sid: str | None, provider_status: str, error_code: str,
           provider: str) -> bool:
    transport = routing.transport_named(provider)
    bad = to_status in (SmsStatus.FAILED, SmsStatus.UNDELIVERED)
    if error_code in transport.unsubscribed_codes:
        opt_out(message.phone, source="provider", keyword=error_code)
    if bad and error_code in transport.unreachable_codes:
        unreachable.note_unreachable(message.phone, error_code)
    if to_status == SmsStatus.DELIVERED:
        unreachable.note_reachable(message.phone)
    if error_code in CONTENT_REVIEW_CODES:
        logger.error("SMS %s filtered by the carrier (%s): review the %s template", message.pk, error_code, message.template)
    moved = advance(message.pk, to_status, source="callback", sid=sid, provider_status=provider_status[:32],
                    error_code=error_code if bad else "")
    if moved:
        message.refresh_from_db(fields=["status", "status_changed_at", "error_code"])
        if bad:
            outcomes.failed([message])
        elif to_status == SmsStatus.DELIVERED:
            outcomes.delivered([message])
    return moved


def store_replies(provider: str, replies: Iterable[InboundReply]) -> int:
    """Keep each reply once (by its provider id) and route it after commit; returns how many
    were new. A reply proves the number reaches a handset."""
    created = 0
    for reply in replies:
        phone = normalize_phone(reply.phone) or reply.phone[:20]
        body = strip_unprintable(reply.body or "")[:MAX_INBOUND_BODY]
        try:
            with transaction.atomic():
                inbound, new = InboundSms.objects.get_or_create(
                    message_sid=reply.sid[:64],
                    defaults={"provider": provider, "phone": phone, "to_phone": (reply.to or "")[:20], "body": body})
                if new:
                    enqueue_on_commit(PROCESS_INBOUND, inbound.pk)
        except IntegrityError:  # the same reply stored concurrently (callback and pull)
            continue
        created += new
    return created


def pull_from_providers() -> dict[str, int]:
    """Receipts and replies waiting at providers with pull APIs (Tencent), for every provider
    the routes use; each record is handed out once by the provider."""
    report: dict[str, int] = {}
    for name in routing.known_providers():
        try:
            transport = routing.provider(name).transport
        except LookupError:
            continue
        try:
            receipts = transport.pull_receipts()
            replies = transport.pull_replies()
        except TransportError as error:
            logger.warning("pulling from SMS provider %s failed (%s); next round retries", name, error.code)
            continue
        if receipts or replies:
            report[name] = record_receipts(name, receipts) + store_replies(name, replies)
    return report
