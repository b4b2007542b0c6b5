"""Channel choice for a safety check's question: who is asked by push, by SMS, by phone call.

    push, sms, voice = first_rungs(window, ladder)  # at fan-out time, as queries
    push_question(check, push, now)                  # rung 1: the push outbox, INSERT … SELECT
    call_question(check, voice, now)                 # rung 3 (at once for prefers_voice)

"Reachable by app" is a live device (notifications/devices.py), not an account: a resident
whose account has no live device is texted at once. A resident marked prefers_voice (cannot
read an SMS) with a phone is called at once instead of texted. Everybody else with a phone is
texted (emergency/safety.py queues the SMS). Later rungs — SMS for an unacknowledged push, a
call for the silent vulnerable — are the sweep's (emergency/escalation.py).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from graphql_relay import to_global_id

from community.models import Resident
from notifications.devices import live_q
from notifications.ladder import Ladder, ladder_for
from notifications.lanes import lane_for
from notifications.models import Device
from notifications.services import notify_selected
from notifications.voice.texts import SAFETY_CHECK as VOICE_SCRIPT
from notifications.voice_outbox import queue_call

from .models import SafetyCheck, SafetyStatus

# A number to text or call: the resident's own, else their account's (Resident.sms_phone).
HAS_PHONE = Q(resident__phone__isnull=False) | (Q(resident__user__phone__isnull=False) & ~Q(resident__user__phone=""))


def first_rungs(window: QuerySet[SafetyStatus], ladder: Ladder, now: dt.datetime | None = None
                ) -> tuple[QuerySet[SafetyStatus], QuerySet[SafetyStatus], QuerySet[SafetyStatus]]:
    """(push, sms, voice) among the status rows `window` selects, as queries (the fan-out asks
    thousands at a time): push to those whose account is active and has a live device; a call
    to those who prefer voice and have a phone; SMS to the others with a phone, and beside the
    push to those the ladder texts at once (the vulnerable by default). A resident with a
    device and prefers_voice gets both push and the call."""
    live = Exists(Device.objects.filter(live_q(now), user_id=OuterRef("resident__user_id")))
    push = window.filter(live, resident__user__isnull=False, resident__user__is_active=True)
    voice = window.filter(HAS_PHONE, resident__prefers_voice=True)
    sms = window.filter(HAS_PHONE).exclude(resident__prefers_voice=True)
    not_pushed = ~Q(pk__in=push.values("pk"))
    sms = sms.filter(not_pushed | Q(is_vulnerable=True)) if ladder.sms_at_once(is_vulnerable=True) else sms.filter(not_pushed)
    return push, sms, voice


def ladder_of(check: SafetyCheck) -> Ladder:
    """The check's ladder: settings.ESCALATION_LADDERS["safety_check"], with its plan step's
    "ladder" parameter on top."""
    override = None
    if check.plan_step_id is not None and check.plan_step is not None:
        value = (check.plan_step.params or {}).get("ladder")
        override = value if isinstance(value, dict) else None
    return ladder_for("safety_check", override)


def push_question(check: SafetyCheck, rows: QuerySet[SafetyStatus], now: dt.datetime) -> list[int]:
    """Rung 1: the question as a notification (history) and a push to every live device of
    the residents of the status rows `rows` selects, in the life-safety lane, vulnerable first
    — written by the database, a few statements whatever their number; each person's pushes
    are about their status row (an answer supersedes them). Returns the rows asked."""
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return []
    notify_selected(
        rows, user="resident__user", kind="safety_check", template="emergency.safety.push",
        context={"title": check.title, "area": check.area.name},
        data={"safetyCheckId": to_global_id("SafetyCheck", check.pk), "areaId": to_global_id("Area", check.area_id)},
        related=check, is_drill=check.is_drill, lane=lane_for("safety_check"), collapse_key=f"safety-check-{check.pk}",
        vulnerable="is_vulnerable", now=now)
    SafetyStatus.objects.filter(pk__in=ids).update(asked_by_push=True, pushed_at=now)
    return ids


def call_question(check: SafetyCheck, rows: list[SafetyStatus], now: dt.datetime) -> int:
    """Rung 3: a voice call asking the question, answered with key 1 (safe) or 2 (need help).
    Idempotent per check and resident."""
    called = []
    for row in rows:
        resident: Resident = row.resident
        phone = resident.sms_phone
        if not phone:
            continue
        queue_call(purpose="safety_check", script=VOICE_SCRIPT, params={"area": check.area.name, "title": check.title},
                   phone=phone, idempotency_key=f"safety-call:{check.pk}:{resident.pk}", language=resident.language,
                   related=row, is_drill=check.is_drill, is_vulnerable=row.is_vulnerable)
        called.append(row.pk)
    SafetyStatus.objects.filter(pk__in=called, called_at__isnull=True).update(called_at=now)
    return len(called)
