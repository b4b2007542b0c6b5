"""What every SMS transport looks like (healthchecks' transports style: one small class each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SendResult:
    sid: str
    provider_status: str = ""


class TransportError(Exception):
    """A send that did not succeed.

    permanent: retrying cannot help (invalid number, unsubscribed recipient, ...): record it.
    maybe_sent: the provider may have accepted the message anyway (timeout, 5xx), so the
        next attempt must ask the provider before sending again.
    """

    def __init__(self, message: str, code: str = "", permanent: bool = False, *, maybe_sent: bool = False):
        super().__init__(message)
        self.message = message
        self.code = str(code or "")
        self.permanent = permanent
        self.maybe_sent = maybe_sent

    def __repr__(self) -> str:
        return f"TransportError({self.message!r}, code={self.code!r}, permanent={self.permanent})"


class Transport:
    """Sends one SMS. Subclasses implement send(); find_sent() when the provider can be asked."""

    name = "base"

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        raise NotImplementedError

    def find_sent(self, *, to: str, body: str, since: datetime, exclude_sids: set[str]) -> SendResult | None:
        """A message with this body sent to `to` since `since`, whose SID is not in
        `exclude_sids` (reconciling after a crash). None when there is none, or when this
        transport cannot tell (then the caller resends)."""
        return None
