"""SMS transports, chosen by settings.SMS_BACKEND (a dotted path), like Django's email backends."""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import (
    CallbackError,
    DeliveryReceipt,
    InboundReply,
    OutgoingSms,
    SendResult,
    Transport,
    TransportError,
)

_instances: dict[str, Transport] = {}


def get_transport() -> Transport:
    """The default provider's transport (settings.SMS_BACKEND)."""
    return transport_at(settings.SMS_BACKEND)


def transport_at(path: str) -> Transport:
    """One instance per transport class path (clients keep their HTTP connections)."""
    transport = _instances.get(path)
    if transport is None:
        transport = _instances[path] = import_string(path)()
    return transport


@receiver(setting_changed)
def _forget_transports(setting: str, **kwargs: object) -> None:
    if setting.startswith(("SMS_", "TWILIO_", "ALIYUN_", "TENCENT_", "PUBLIC_BASE_URL")):
        _instances.clear()


__all__ = [
    "CallbackError", "DeliveryReceipt", "InboundReply", "OutgoingSms", "SendResult", "Transport", "TransportError",
    "get_transport", "transport_at",
]
