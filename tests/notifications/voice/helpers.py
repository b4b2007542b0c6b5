"""Shared by the voice transport tests."""

from __future__ import annotations

from notifications.voice import OutgoingCall


def safety_call(call_id=42, to="+15551230001", language="zh-hans", **overrides):
    fields = {"call_id": call_id, "to": to, "language": language, "script": "emergency.safety.voice",
              "params": {"area": "湖滨街道", "title": "台风报平安"}}
    return OutgoingCall(**(fields | overrides))
