"""Development: print each SMS instead of sending it."""

from __future__ import annotations

import sys
import uuid

from core.masking import mask_phone

from .base import SendResult, Transport


class ConsoleTransport(Transport):
    name = "console"

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        sid = "CO" + uuid.uuid4().hex
        sys.stdout.write(f"[sms {sid}] to {mask_phone(to)}:\n{body}\n\n")
        sys.stdout.flush()
        return SendResult(sid=sid, provider_status="sent")
