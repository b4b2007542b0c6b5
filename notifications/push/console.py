"""Development: print each push instead of sending it (tokens masked)."""

from __future__ import annotations

import sys
import uuid

from .base import PushMessage, PushOutcome, PushResult, PushTransport, mask_token


class ConsolePushTransport(PushTransport):
    name = "console"

    def send_batch(self, messages: list[PushMessage]) -> list[PushOutcome]:
        outcomes: list[PushOutcome] = []
        for message in messages:
            provider_id = f"CO-{uuid.uuid4().hex}"
            extras = f" collapse={message.collapse_key}" if message.collapse_key else ""
            sys.stdout.write(
                f"[push {self.provider} #{message.push_id} {provider_id}] to {message.platform} "
                f"{mask_token(message.token)} ({message.priority}{', critical' if message.critical else ''}"
                f"{extras}):\n{message.title}\n{message.body}\n{message.data}\n\n"
            )
            outcomes.append(PushResult(provider_id=provider_id))
        sys.stdout.flush()
        return outcomes
