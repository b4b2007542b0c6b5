"""Tests: keep every placed call in `calls` (like django.core.mail.outbox).

    from notifications.voice import locmem
    locmem.fail_next(VoiceError("busy line", "429"))   # the next place_call raises it
    ... place a call ...
    call = locmem.calls[-1]                              # PlacedCall(sid, call, text, at)
    events = locmem.events(call.sid, "answered", digits="2")   # what a provider would report

parse_event() takes a JSON list of CallEvent fields - for driving a webhook view in tests only:
it is unauthenticated, and the settings select locmem only while pytest runs.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone

from notifications.templates import TemplateError

from . import texts
from .base import (
    ANSWERED,
    COMPLETED,
    RINGING,
    STATUSES,
    CallbackError,
    CallEvent,
    CallResult,
    OutgoingCall,
    VoiceError,
    VoiceTransport,
    check_body_size,
    check_call,
)


@dataclass
class PlacedCall:
    sid: str
    call: OutgoingCall
    text: str  # what the resident hears first
    at: datetime = field(default_factory=timezone.now)


calls: list[PlacedCall] = []
_failures: list[VoiceError] = []
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        calls.clear()
        _failures.clear()


def fail_next(*errors: VoiceError) -> None:
    """The next place_call()s raise these, in order (then calls succeed again)."""
    with _lock:
        _failures.extend(errors)


def events(sid: str, outcome: str, digits: str = "") -> list[CallEvent]:
    """The events a provider would report for a call ending in `outcome` (a final status;
    "completed" means picked up), with `digits` pressed if picked up."""
    if outcome not in STATUSES:
        raise ValueError(f"unknown outcome {outcome!r}")
    call_id = next((c.call.call_id for c in calls if c.sid == sid), None)
    found = [CallEvent(sid, call_id, RINGING)]
    if outcome in (ANSWERED, COMPLETED):
        found.append(CallEvent(sid, call_id, ANSWERED))
        if digits:
            found.append(CallEvent(sid, call_id, ANSWERED, digits=digits))
        found.append(CallEvent(sid, call_id, COMPLETED, duration_seconds=20))
    else:
        found.append(CallEvent(sid, call_id, outcome, duration_seconds=0))
    return found


class LocmemVoiceTransport(VoiceTransport):
    name = "locmem"

    def place_call(self, call: OutgoingCall) -> CallResult:
        check_call(call)
        with _lock:
            if _failures:
                raise _failures.pop(0)
        try:
            text = texts.render_script(call.script, call.params, call.language, is_drill=call.is_drill)
        except TemplateError as exc:
            raise VoiceError(str(exc), "script", permanent=True) from None
        placed = PlacedCall(sid="LV" + uuid.uuid4().hex, call=call, text=text)
        with _lock:
            calls.append(placed)
        return CallResult(sid=placed.sid)

    def find_placed(self, *, to: str, since: datetime, exclude_sids: set[str]) -> CallResult | None:
        with _lock:
            for placed in calls:
                if placed.call.to == to and placed.at >= since and placed.sid not in exclude_sids:
                    return CallResult(sid=placed.sid)
        return None

    def parse_event(self, request: HttpRequest) -> list[CallEvent]:
        try:
            data = json.loads(check_body_size(request).decode("utf-8"))
            found = [CallEvent(sid=str(d["sid"]), call_id=d.get("call_id"), status=str(d["status"]),
                               digits=str(d.get("digits", "")), duration_seconds=d.get("duration_seconds"),
                               error_code=str(d.get("error_code", ""))) for d in data]
        except CallbackError:
            raise
        except Exception:  # noqa: BLE001 - tests only: anything unexpected is just malformed
            raise CallbackError("malformed", "not a JSON list of events") from None
        if any(e.status not in STATUSES for e in found):
            raise CallbackError("malformed", "unknown status")
        return found
