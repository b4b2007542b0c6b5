"""Development: print each call's words instead of placing it."""

from __future__ import annotations

import sys
import uuid

from core.masking import mask_phones
from notifications.templates import TemplateError

from . import texts
from .base import CallResult, OutgoingCall, VoiceError, VoiceTransport, check_call


class ConsoleVoiceTransport(VoiceTransport):
    name = "console"

    def place_call(self, call: OutgoingCall) -> CallResult:
        check_call(call)
        try:
            text = texts.render_script(call.script, call.params, call.language, is_drill=call.is_drill)
        except TemplateError as exc:
            raise VoiceError(str(exc), "script", permanent=True) from None
        sid = "CV" + uuid.uuid4().hex
        keys = " [1 = safe, 2 = need help]" if call.gather else ""
        sys.stdout.write(f"[voice {sid}] call {call.call_id} to {mask_phones(call.to)}, said {call.repeat}x{keys}:\n{text}\n\n")
        sys.stdout.flush()
        return CallResult(sid=sid)
