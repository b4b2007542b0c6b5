"""Channel choice for a safety check's question: who is asked by push, by SMS, by phone call.

    push, sms, voice = first_rungs(open_rows)       # at fan-out time
    push_question(check, push, now)                  # rung 1: the push outbox
    call_question(check, voice, now)                 # rung 3 (at once for prefers_voice)

"Reachable by app" is a live device (notifications/devices.py), not an account: a resident
whose account has no live device is texted at once. A resident marked prefers_voice (cannot
read an SMS) with a phone is called at once instead of texted. Everybody else with a phone is
texted (emergency/safety.py queues the SMS). Later rungs — SMS for an unacknowledged push, a
call for the silent vulnerable — are the sweep's (emergency/escalation.py).
"""

from __future__ import annotations

import datetime as dt

from graphql_relay import to_global_id

from community.models import Resident
from notifications.devices import live_device_users
from notifications.ladder import Ladder, ladder_for
from notifications.lanes import lane_for
from notifications.services import notify_many
from notifications.voice.texts import SAFETY_CHECK as VOICE_SCRIPT
from notifications.voice_outbox import queue_call

from .models import SafetyCheck, SafetyStatus


def first_rungs(rows: list[SafetyStatus], ladder: Ladder, now: dt.datetime | None = None
                ) -> tuple[list[SafetyStatus], list[SafetyStatus], list[SafetyStatus]]:
    """(push, sms, voice) among `rows` (their residents and users loaded): push to those with a
    live device; a call to those who prefer voice and have a phone; SMS to the others with a
    phone, and beside the push to those the ladder texts at once (the vulnerable by default).
    A resident with a device and prefers_voice gets both push and the call."""
    live = live_device_users([r.resident.user_id for r in rows if r.resident.user_id is not None and r.resident.uses_app],
                             now)
    push = [r for r in rows if r.resident.user_id in live]
    voice = [r for r in rows if r.resident.prefers_voice and r.resident.sms_phone]
    pushed, called = {r.pk for r in push}, {r.pk for r in voice}
    sms = [r for r in rows if r.resident.sms_phone and r.pk not in called
           and (r.pk not in pushed or ladder.sms_at_once(is_vulnerable=r.is_vulnerable))]
    return push, sms, voice


def ladder_of(check: SafetyCheck) -> Ladder:
    """The check's ladder: settings.ESCALATION_LADDERS["safety_check"], with its plan step's
    "ladder" parameter on top."""
    override = None
    if check.plan_step_id is not None and check.plan_step is not None:
        value = (check.plan_step.params or {}).get("ladder")
        override = value if isinstance(value, dict) else None
    return ladder_for("safety_check", override)


def push_question(check: SafetyCheck, rows: list[SafetyStatus], now: dt.datetime) -> int:
    """Rung 1: the question as a notification (history) and a push to every live device, in
    the life-safety lane, vulnerable first; each person's pushes are about their status row
    (an answer supersedes them)."""
    rows = [r for r in rows if r.resident.user is not None]
    if not rows:
        return 0
    notify_many([r.resident.user for r in rows if r.resident.user is not None], kind="safety_check",
                template="emergency.safety.push", context={"title": check.title, "area": check.area.name},
                data={"safetyCheckId": to_global_id("SafetyCheck", check.pk), "areaId": to_global_id("Area", check.area_id)},
                related=check, is_drill=check.is_drill, lane=lane_for("safety_check"),
                vulnerable_users={r.resident.user_id for r in rows if r.is_vulnerable and r.resident.user_id},
                collapse_key=f"safety-check-{check.pk}",
                related_for={r.resident.user_id: r for r in rows if r.resident.user_id is not None})
    SafetyStatus.objects.filter(pk__in=[r.pk for r in rows]).update(asked_by_push=True, pushed_at=now)
    return len(rows)


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
