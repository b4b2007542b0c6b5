"""Apple's `aps` dictionary, shared by APNs directly and by iOS pushes through FCM and JPush."""

from __future__ import annotations

from typing import Any

from .base import PushMessage


def interruption_level(message: PushMessage, *, critical_allowed: bool) -> str | None:
    if message.critical and critical_allowed:
        return "critical"
    if message.critical:
        # Without Apple's critical-alert entitlement: still breaks through Focus (needs the
        # app's Time Sensitive capability, else iOS delivers it as "active").
        return "time-sensitive"
    return None


def aps_dictionary(message: PushMessage, *, critical_allowed: bool) -> dict[str, Any]:
    aps: dict[str, Any] = {"alert": {"title": message.title, "body": message.body}}
    level = interruption_level(message, critical_allowed=critical_allowed)
    if level == "critical":
        aps["sound"] = {"critical": 1, "name": message.sound or "default", "volume": 1.0}
    elif message.sound:
        aps["sound"] = message.sound
    if level:
        aps["interruption-level"] = level
    if message.badge is not None:
        aps["badge"] = message.badge
    return aps


def apns_payload(message: PushMessage, *, critical_allowed: bool) -> dict[str, Any]:
    """The APNs JSON body: `aps`, with our custom data beside it at the top level."""
    payload: dict[str, Any] = {key: value for key, value in message.data.items() if key != "aps"}
    payload["aps"] = aps_dictionary(message, critical_allowed=critical_allowed)
    return payload
