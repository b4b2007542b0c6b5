"""Tests: keep every push in `outbox` (like django.core.mail.outbox), and answer scripted
failures per token:

    from notifications.push import locmem
    locmem.fail_token("dead-token", PushError("Unregistered", "Unregistered", invalid_token=True))
    ... send ...
    assert [p.message.token for p in locmem.outbox] == [...]
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .base import PushError, PushMessage, PushOutcome, PushResult, PushTransport


@dataclass
class SentPush:
    provider: str
    provider_id: str
    message: PushMessage
    at: datetime = field(default_factory=timezone.now)


outbox: list[SentPush] = []
_failures: dict[str, PushError] = {}
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        outbox.clear()
        _failures.clear()


def fail_token(token: str, error: PushError) -> None:
    """Every push to `token` answers `error` until clear()."""
    with _lock:
        _failures[token] = error


class LocmemPushTransport(PushTransport):
    name = "locmem"

    def send_batch(self, messages: list[PushMessage]) -> list[PushOutcome]:
        outcomes: list[PushOutcome] = []
        with _lock:
            for message in messages:
                failure = _failures.get(message.token)
                if failure is not None:
                    outcomes.append(failure)
                    continue
                sent = SentPush(self.provider, f"LM-{self.provider}-{uuid.uuid4().hex}", message)
                outbox.append(sent)
                outcomes.append(PushResult(provider_id=sent.provider_id))
        return outcomes
