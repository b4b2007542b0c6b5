"""The SMS status machine: queued < sending < sent < delivered | undelivered | failed;
refused and superseded leave queued for good. One function moves a message forward
(compare-and-set on its current status) and records the transition as an SmsStatusEvent,
so the worker, the providers' callbacks and the sweep can all report without ever moving a
message backwards or recording a transition twice."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import STATUS_RANK, SmsMessage, SmsStatusEvent

logger = logging.getLogger(__name__)


def advance(
    message_id: int,
    to_status: str,
    *,
    source: str,
    sid: str | None = None,
    provider_status: str = "",
    error_code: str = "",
    error_message: str = "",
    extra: Mapping[str, object] | None = None,
) -> bool:
    """Move a message forward to `to_status` if that is forward; True if it moved.

    Compare-and-set on the current status, so concurrent reporters (worker, callbacks,
    sweep) each see a consistent from-state and exactly one records each transition."""
    target = STATUS_RANK[to_status]
    for _ in range(5):
        row = SmsMessage.objects.filter(pk=message_id).values("status", "provider_sid").first()
        if row is None or STATUS_RANK[row["status"]] >= target:
            return False
        if sid and row["provider_sid"] and row["provider_sid"] != sid:
            logger.warning("SMS %s: provider SID mismatch on %s; ignored", message_id, to_status)
            return False
        now = timezone.now()
        updates = {"status": to_status, "status_changed_at": now, **(extra or {})}
        if sid:
            updates["provider_sid"] = sid
        if provider_status:
            updates["provider_status"] = provider_status
        if error_code:
            updates["error_code"] = str(error_code)
            updates["error_message"] = error_message[:500]
        try:
            with transaction.atomic():
                moved = SmsMessage.objects.filter(pk=message_id, status=row["status"]).update(**updates)
                if moved:
                    SmsStatusEvent.objects.create(
                        message_id=message_id, from_status=row["status"], to_status=to_status,
                        provider_status=provider_status, error_code=str(error_code or ""), source=source, at=now,
                    )
        except IntegrityError:
            logger.error("SMS %s: provider SID already belongs to another message; not adopted", message_id)
            return False
        if moved:
            return True
    return False
