"""Voice-call transports, chosen by role in settings.VOICE_BACKENDS (dotted paths):

    transport = get_voice_transport(voice_route(phone))   # "domestic" for +86, else "international"
    result = transport.place_call(OutgoingCall(call_id=row.pk, to=phone, language="zh-hans",
                                               script="emergency.safety.voice",
                                               params={"area": "湖滨街道", "title": "台风报平安"}))

Production: international = notifications.voice.twilio.TwilioVoiceTransport, domestic =
notifications.voice.aliyun.AliyunVoiceTransport. Development prints (console), tests keep a
list (locmem), like the SMS backends.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import (
    KEY_HELP,
    KEY_SAFE,
    Ack,
    CallbackError,
    CallEvent,
    CallResult,
    OutgoingCall,
    VoiceError,
    VoiceTransport,
)
from .texts import register_voice_script, render_script

DOMESTIC = "domestic"
INTERNATIONAL = "international"

_instances: dict[tuple[str, str], VoiceTransport] = {}


def voice_route(phone: str) -> str:
    """Which provider role reaches `phone` (E.164): mainland China numbers go domestic."""
    return DOMESTIC if phone.startswith("+86") else INTERNATIONAL


def get_voice_transport(name: str) -> VoiceTransport:
    """The transport configured for role `name` ("domestic" / "international"), one instance
    per configuration."""
    backends: dict[str, str] = settings.VOICE_BACKENDS
    path = backends.get(name)
    if not path:
        raise ImproperlyConfigured(f"VOICE_BACKENDS has no {name!r} backend")
    transport = _instances.get((name, path))
    if transport is None:
        transport = _instances[(name, path)] = import_string(path)()
    return transport


@receiver(setting_changed)
def _forget_transports(setting: str, **kwargs: Any) -> None:
    if setting.startswith(("VOICE_", "TWILIO_", "ALIYUN_", "PUBLIC_BASE_URL")):
        _instances.clear()


__all__ = [
    "DOMESTIC", "INTERNATIONAL", "KEY_HELP", "KEY_SAFE", "Ack", "CallEvent", "CallResult", "CallbackError",
    "OutgoingCall", "VoiceError", "VoiceTransport", "get_voice_transport", "register_voice_script",
    "render_script", "voice_route",
]
