"""What notifications erases when a person is erased (privacy.erasure; community.rights):

- devices: every phone of the person is forgotten (the push tokens deleted), so no push can
  reach them after; pushes still queued for them are refused ("erased") and never sent.
- voice calls to their number(s): queued ones are superseded (never dialled); every call
  keeps its status and outcome and loses the number and the spoken values. A call ringing
  at that moment is not dialled again (notifications.voice_outbox skips a blank number).
- SMS to their number(s): queued ones are superseded (never sent); the others lose number,
  text and template values as retention would blank them. Texts they sent us lose sender
  and text (the outcome stays).

Statuses stay, so the after-action report's figures do not change. Runs in the caller's
transaction, before the account's numbers are blanked; running it again does nothing more.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from .models import (
    Device,
    DevicePush,
    InboundSms,
    PushStatus,
    SmsMessage,
    SmsStatus,
    VoiceCall,
)
from .my_data import phones_of
from .outbox import supersede_sms
from .voice_outbox import ERASED as ERASED_CODE
from .voice_outbox import supersede_calls

REASON = "The person's data was erased (right to deletion)."
SMS_WAITING = (SmsStatus.QUEUED, SmsStatus.SENDING)


def erase_reach(user: Any) -> dict[str, int]:
    now = timezone.now()
    numbers = phones_of(user)
    pushes = DevicePush.objects.filter(user=user, status=PushStatus.QUEUED).update(
        status=PushStatus.REFUSED, error_code=ERASED_CODE, error_message=REASON, status_changed_at=now)
    devices, _ = Device.objects.filter(user=user).delete()
    done = {"devices": devices, "pushes_refused": pushes, "calls_superseded": 0, "calls_blanked": 0,
            "sms_superseded": 0, "sms_blanked": 0, "texts_blanked": 0}
    if not numbers:
        return done
    done["calls_superseded"] = supersede_calls(Q(phone__in=numbers), reason=REASON, now=now)
    done["calls_blanked"] = VoiceCall.objects.filter(phone__in=numbers).update(phone="", params={})
    done["sms_superseded"] = supersede_sms(Q(phone__in=numbers), reason=REASON)
    done["sms_blanked"] = (SmsMessage.objects.filter(phone__in=numbers).exclude(status__in=SMS_WAITING)
                           .update(phone="", body="", body_redacted="", params={}, error_message=""))
    done["texts_blanked"] = InboundSms.objects.filter(phone__in=numbers).update(phone="", body="")
    return done

