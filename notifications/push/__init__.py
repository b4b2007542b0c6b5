"""Device push transports (APNs, FCM HTTP v1, JPush), one per provider, chosen by
settings.PUSH_BACKENDS (provider name -> dotted path), like the SMS transports.

    transport = get_push_transport("apns")
    outcomes = transport.send_batch(messages)   # one PushResult | PushError per message

Instances are cached per process (they own connections, token caches and, for APNs, an
event-loop thread) and closed when a relevant setting changes (tests).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import PushError, PushMessage, PushOutcome, PushResult, PushTransport

PROVIDERS = ("apns", "fcm", "jpush")

_instances: dict[str, PushTransport] = {}
_lock = threading.Lock()


def get_push_transport(provider: str) -> PushTransport:
    with _lock:
        transport = _instances.get(provider)
        if transport is None:
            path = settings.PUSH_BACKENDS.get(provider)
            if not path:
                raise ImproperlyConfigured(f"No push backend configured for {provider!r} (PUSH_BACKENDS).")
            transport = _instances[provider] = import_string(path)(provider=provider)
        return transport


def close_push_transports() -> None:
    with _lock:
        transports = list(_instances.values())
        _instances.clear()
    for transport in transports:
        transport.close()


@receiver(setting_changed)
def _forget_push_transports(setting: str, **kwargs: Any) -> None:
    if setting.startswith(("PUSH_", "APNS_", "FCM_", "JPUSH_")):
        close_push_transports()


__all__ = [
    "PROVIDERS",
    "PushError",
    "PushMessage",
    "PushOutcome",
    "PushResult",
    "PushTransport",
    "close_push_transports",
    "get_push_transport",
]
