"""What notifications holds about a person, for their export (privacy.my_data): their
notification history, the SMS sent to their number and the texts they sent us, the phones
their app can be woken on (the push token masked: its last characters, enough to tell one's
phones apart and useless to send with), the pushes sent to those phones and the voice calls
placed to their number(s)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from privacy.my_data import Row, register_section, rows

from .devices import ttl
from .models import Device, DevicePush, InboundSms, Notification, SmsMessage, VoiceCall

TOKEN_SHOWN = 6  # last characters of a push token shown in an export


def masked_token(token: str | None) -> str:
    """"…c0ffee": the last TOKEN_SHOWN characters of a push token; "" for none."""
    if not token:
        return ""
    return "…" + token[-TOKEN_SHOWN:] if len(token) > TOKEN_SHOWN else "…"


def phones_of(user: Any) -> list[str]:
    """The person's numbers: their account's and their resident record's."""
    found = {str(user.phone)} if getattr(user, "phone", None) else set()
    resident = getattr(user, "resident", None) if hasattr(user, "resident") else None
    if resident is not None and resident.phone:
        found.add(str(resident.phone))
    return sorted(found)


def notifications(user: Any) -> list[Row]:
    return rows(Notification.objects.filter(user=user).order_by("created_at", "id"),
                ["kind", "title", "body", "is_drill", "created_at", "read_at"])


def sms_sent(user: Any) -> list[Row]:
    out = rows(SmsMessage.objects.filter(phone__in=phones_of(user)).order_by("created_at", "id"),
               ["phone", "purpose", "body", "body_redacted", "status", "is_drill", "created_at", "sent_at"])
    for row in out:  # a secret (a login code) is shown masked, as it is kept
        body_redacted = row.pop("body_redacted")
        row["body"] = body_redacted or row["body"]
    return out


def sms_received(user: Any) -> list[Row]:
    return rows(InboundSms.objects.filter(phone__in=phones_of(user)).order_by("received_at", "id"),
                ["phone", "body", "received_at", "outcome"])


def devices(user: Any) -> list[Row]:
    live_after = timezone.now() - ttl()
    out = []
    for device in Device.objects.filter(user=user).order_by("created_at", "id"):
        row = rows([device], ["platform", "provider", "app_version", "language", "created_at", "last_seen_at"])[0]
        out.append({**row, "token": masked_token(device.token), "live": device.last_seen_at >= live_after})
    return out


def pushes(user: Any) -> list[Row]:
    """One row per push to one of the person's phones: what it was about, through whom, what
    became of it. The title and text are in the notifications section."""
    out = rows(DevicePush.objects.filter(user=user).order_by("created_at", "id"),
               ["purpose", "provider", "device__token", "status", "error_code", "is_drill", "created_at", "sent_at"])
    for row in out:
        row["device"] = masked_token(row.pop("device__token"))
    return out


def voice_calls(user: Any) -> list[Row]:
    return rows(VoiceCall.objects.filter(phone__in=phones_of(user)).order_by("created_at", "id"),
                ["phone", "purpose", "language", "status", "digits", "attempts", "is_drill", "created_at", "placed_at",
                 "answered_at"])


def register_all() -> None:
    register_section("notifications", notifications)
    register_section("sms_to_me", sms_sent)
    register_section("sms_from_me", sms_received)
    register_section("my_devices", devices)
    register_section("pushes_to_my_devices", pushes)
    register_section("voice_calls_to_me", voice_calls)
