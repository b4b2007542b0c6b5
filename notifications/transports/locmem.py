"""Tests: keep every SMS in `outbox` (like django.core.mail.outbox)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .base import OutgoingSms, SendResult, Transport


@dataclass
class SentSms:
    sid: str
    to: str
    body: str
    status_callback: str | None
    at: datetime = field(default_factory=timezone.now)


outbox: list[SentSms] = []
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        outbox.clear()


class LocmemTransport(Transport):
    name = "locmem"

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        sms = SentSms(sid="LM" + uuid.uuid4().hex, to=to, body=body, status_callback=status_callback)
        with _lock:
            outbox.append(sms)
        return SendResult(sid=sms.sid, provider_status="sent")

    def find_sent(self, *, to: str, body: str, since: datetime, exclude_sids: set[str],
                  message: OutgoingSms | None = None) -> SendResult | None:
        with _lock:
            for sms in outbox:
                if sms.to == to and sms.body == body and sms.at >= since and sms.sid not in exclude_sids:
                    return SendResult(sid=sms.sid, provider_status="sent")
        return None
