"""What notifications keeps and for how long (privacy.retention; settings.RETENTION_DAYS).

- sms_bodies: an SMS no longer waiting to be sent keeps its purpose, lane, status, provider and
  times (the after-action report counts them) and loses its number, text and template values.
- inbound_texts: a text keeps its outcome and intent and loses its sender and text.
- notifications: the push history keeps kind, user, drill flag and what it was about (counted
  by the report) and loses title, body and data.
- login_codes: phone-login codes (hashes) are deleted.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from privacy.retention import in_batches, register

from .models import InboundSms, LoginCode, Notification, SmsMessage, SmsStatus

WAITING = (SmsStatus.QUEUED, SmsStatus.SENDING)


def anonymise_sms(cutoff: datetime) -> int:
    # "sent" counts too: a receipt that has not come in the period will not come.
    old = SmsMessage.objects.filter(created_at__lt=cutoff).exclude(status__in=WAITING).exclude(phone="")
    return in_batches(old, lambda rows: rows.update(phone="", body="", body_redacted="", params={}, error_message=""))


def anonymise_inbound(cutoff: datetime) -> int:
    old = InboundSms.objects.filter(received_at__lt=cutoff).filter(~Q(phone="") | ~Q(body=""))
    return in_batches(old, lambda rows: rows.update(phone="", body=""))


def anonymise_notifications(cutoff: datetime) -> int:
    old = Notification.objects.filter(created_at__lt=cutoff).filter(~Q(title="") | ~Q(body="") | ~Q(data={}))
    return in_batches(old, lambda rows: rows.update(title="", body="", data={}))


def delete_login_codes(cutoff: datetime) -> int:
    return in_batches(LoginCode.objects.filter(created_at__lt=cutoff), lambda rows: rows.delete()[0])


def register_all() -> None:
    register("sms_bodies", anonymise_sms)
    register("inbound_texts", anonymise_inbound)
    register("notifications", anonymise_notifications)
    register("login_codes", delete_login_codes)
