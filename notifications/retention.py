"""What notifications keeps and for how long (privacy.retention; settings.RETENTION_DAYS).

- sms_bodies: an SMS no longer waiting to be sent keeps its purpose, lane, status, provider and
  times (the after-action report counts them) and loses its number, text and template values.
- inbound_texts: a text keeps its outcome and intent and loses its sender and text.
- notifications: the push history keeps kind, user, drill flag and what it was about (counted
  by the report) and loses title, body and data.
- login_codes: phone-login codes (hashes) are deleted.
- device_pushes: a push no longer waiting to be sent keeps its notification, person, provider,
  purpose, lane, status and error code (the after-action report counts them) and loses its link
  to the device (and so to the push token), the provider's message id and the error text.
- voice_calls: a call no longer waiting or ringing keeps its purpose, route, status, key and
  times (counted by the report; the answer itself is the safety check's) and loses the number
  called, the spoken values and the error text.

Rows still queued, being sent or ringing are never touched, whatever their age. Devices are
not a kind here: the push sweep deletes those unseen for PUSH_DEVICE_TTL_DAYS
(notifications.devices.expire_devices).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from privacy.retention import in_batches, register

from .models import (
    PUSH_TERMINAL,
    CallStatus,
    DevicePush,
    InboundSms,
    LoginCode,
    Notification,
    SmsMessage,
    SmsStatus,
    VoiceCall,
)

WAITING = (SmsStatus.QUEUED, SmsStatus.SENDING)
CALL_FINISHED = (CallStatus.ANSWERED, CallStatus.UNANSWERED, CallStatus.FAILED, CallStatus.SUPERSEDED)


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


def anonymise_pushes(cutoff: datetime) -> int:
    old = (DevicePush.objects.filter(created_at__lt=cutoff, status__in=PUSH_TERMINAL)
           .filter(Q(device__isnull=False) | ~Q(provider_id="") | ~Q(error_message="")))
    return in_batches(old, lambda rows: rows.update(device=None, provider_id="", error_message=""))


def anonymise_calls(cutoff: datetime) -> int:
    old = (VoiceCall.objects.filter(created_at__lt=cutoff, status__in=CALL_FINISHED)
           .filter(~Q(phone="") | ~Q(params={}) | ~Q(error_message="")))
    return in_batches(old, lambda rows: rows.update(phone="", params={}, error_message=""))


def register_all() -> None:
    register("sms_bodies", anonymise_sms)
    register("inbound_texts", anonymise_inbound)
    register("notifications", anonymise_notifications)
    register("login_codes", delete_login_codes)
    register("device_pushes", anonymise_pushes)
    register("voice_calls", anonymise_calls)
