"""What notifications holds about a person, for their export (privacy.my_data): their
notification history, the SMS sent to their number and the texts they sent us."""

from __future__ import annotations

from typing import Any

from privacy.my_data import Row, register_section, rows

from .models import InboundSms, Notification, SmsMessage


def _phones(user: Any) -> list[str]:
    found = {str(user.phone)} if getattr(user, "phone", None) else set()
    resident = getattr(user, "resident", None) if hasattr(user, "resident") else None
    if resident is not None and resident.phone:
        found.add(str(resident.phone))
    return sorted(found)


def notifications(user: Any) -> list[Row]:
    return rows(Notification.objects.filter(user=user).order_by("created_at", "id"),
                ["kind", "title", "body", "is_drill", "created_at", "read_at"])


def sms_sent(user: Any) -> list[Row]:
    out = rows(SmsMessage.objects.filter(phone__in=_phones(user)).order_by("created_at", "id"),
               ["phone", "purpose", "body", "body_redacted", "status", "is_drill", "created_at", "sent_at"])
    for row in out:  # a secret (a login code) is shown masked, as it is kept
        body_redacted = row.pop("body_redacted")
        row["body"] = body_redacted or row["body"]
    return out


def sms_received(user: Any) -> list[Row]:
    return rows(InboundSms.objects.filter(phone__in=_phones(user)).order_by("received_at", "id"),
                ["phone", "body", "received_at", "outcome"])


def register_all() -> None:
    register_section("notifications", notifications)
    register_section("sms_to_me", sms_sent)
    register_section("sms_from_me", sms_received)
