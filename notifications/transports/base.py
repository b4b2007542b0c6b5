"""What every SMS transport looks like (healthchecks' transports style: one small class each).

A transport sends one message with send(to=..., body=...) (Twilio, console, locmem), or a
list of OutgoingSms with send_batch() when the provider takes many recipients per call
(Aliyun, Tencent: max_batch). Providers that report back also turn their receipts and replies
into DeliveryReceipt and InboundReply, by pulling (pull_receipts/pull_replies) or by parsing
their HTTP callbacks (each provider module's parse_*_callback, raising CallbackError).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SendResult:
    sid: str
    provider_status: str = ""


@dataclass(frozen=True)
class OutgoingSms:
    """One message for send_batch(): what Twilio needs (to, body) and what template-only
    providers need (the Linli template's name and its variables)."""

    message_id: int  # our SmsMessage pk: sent as the provider's OutId / SessionContext
    to: str  # E.164
    body: str  # the fully rendered text
    template: str  # Linli template name, e.g. "emergency.safety.sms"
    params: dict[str, str] = field(default_factory=dict)  # the template's variables, as strings
    language: str = "zh-hans"
    is_drill: bool = False
    status_callback: str | None = None  # where a provider that takes one per message reports status (Twilio)


@dataclass(frozen=True)
class DeliveryReceipt:
    """What the handset's carrier said about one sent message."""

    sid: str  # the per-recipient id the SendResult carried
    phone: str  # E.164
    status: str  # "delivered" | "undelivered" | "failed"
    error_code: str = ""  # the provider's or carrier's code ("DELIVERED", "MK:0001", ...)
    message_id: int | None = None  # from OutId / SessionContext when the provider echoes it
    at: datetime | None = None


@dataclass(frozen=True)
class InboundReply:
    """One SMS a person sent us."""

    sid: str  # provider-unique, for de-duplication (built from the content when the provider has none)
    phone: str  # the sender, E.164
    body: str
    to: str = ""  # our extension code / sign the reply came to
    at: datetime | None = None


class CallbackError(ValueError):
    """A provider callback that cannot be trusted or read: answer 400 (403 for bad_token)
    and keep nothing. `code`: bad_json, bad_shape, bad_value, bad_token, too_large."""

    def __init__(self, message: str, code: str = "bad_shape"):
        super().__init__(message)
        self.message = message
        self.code = code


class TransportError(Exception):
    """A send that did not succeed.

    permanent: retrying cannot help (invalid number, unsubscribed recipient, ...): record it.
    maybe_sent: the provider may have accepted the message anyway (timeout, 5xx), so the
        next attempt must ask the provider before sending again.
    operator: nothing will go through this provider until a person acts (wrong credentials,
        no balance, account suspended, template not approved): not the message's fault, so
        it is not permanent; fail over to another provider and alert the operators.
    """

    def __init__(self, message: str, code: str | int = "", permanent: bool = False, *, maybe_sent: bool = False,
                 operator: bool = False):
        super().__init__(message)
        self.message = message
        self.code = str(code or "")
        self.permanent = permanent
        self.maybe_sent = maybe_sent
        self.operator = operator

    def __repr__(self) -> str:
        return f"TransportError({self.message!r}, code={self.code!r}, permanent={self.permanent})"


class Transport:
    """Sends SMS. Subclasses implement send() (or send_batch() and max_batch for providers
    that take many recipients per call); find_sent() when the provider can be asked."""

    name = "base"
    max_batch: int = 1  # recipients per provider call
    # Codes (at send time or in receipts) meaning the person unsubscribed (recorded as an
    # opt-out) or the number cannot be reached (counted towards marking it unreachable).
    # Twilio's by default: what the outbox always assumed.
    unsubscribed_codes: frozenset[str] = frozenset({"21610"})
    unreachable_codes: frozenset[str] = frozenset({"30003", "30005", "30006"})
    # Throttling codes about one number (its own hourly/daily caps), not the whole account:
    # another provider may take the message, but this one is not paused for everyone.
    per_number_limit_codes: frozenset[str] = frozenset()
    # The account's request rate was exceeded: pause the provider briefly (a second, not an outage).
    throttle_codes: frozenset[str] = frozenset({"20429", "429"})

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        raise NotImplementedError

    def send_batch(self, messages: list[OutgoingSms]) -> list[SendResult | TransportError]:
        """One result per message, in the same order; a failure is returned, not raised."""
        results: list[SendResult | TransportError] = []
        for message in messages:
            try:
                results.append(self.send(to=message.to, body=message.body, status_callback=message.status_callback))
            except TransportError as exc:
                results.append(exc)
        return results

    def pull_receipts(self) -> list[DeliveryReceipt]:
        """Receipts waiting at the provider (providers with a pull API); each is returned once."""
        return []

    def pull_replies(self) -> list[InboundReply]:
        """Replies waiting at the provider (providers with a pull API); each is returned once."""
        return []

    def find_sent(self, *, to: str, body: str, since: datetime, exclude_sids: set[str],
                  message: OutgoingSms | None = None) -> SendResult | None:
        """A message with this body sent to `to` since `since`, whose SID is not in
        `exclude_sids` (reconciling after a crash); `message` is the whole message, for
        providers that render their own templates. None when there is none, or when this
        transport cannot tell (then the caller resends)."""
        return None
