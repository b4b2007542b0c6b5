"""The escalation ladder of safety checks (notifications/ladder.py for the rungs and settings).

    sweep_escalation(now=None)     # the beat sweep (every 15 s, life-safety queue); alerts'
                                   # rung: emergency/alert_escalation.py, from the same task
    register_handlers()            # push / call outcomes and acknowledgements (apps.py)

Per active check, with the check's ladder (settings.ESCALATION_LADDERS["safety_check"], the
plan step's "ladder" on top):
  - SMS: unanswered residents pushed at least sms_after_seconds ago whose push nobody opened
    (acknowledged_at empty) and who were not texted yet are texted — or, if they prefer voice,
    called; at once when every push to them failed (push handler below);
  - VOICE: unanswered residents the ladder calls (the vulnerable by default) first asked
    (pushed or texted) at least voice_after_seconds ago and not called yet are called;
  - VISIT: the welfare visit stays emergency/safety_answers.request_welfare_checks'.
Every rung reads committed status rows and writes the same idempotency keys (SMS
"safety:<check>:<resident>", call "safety-call:<check>:<resident>"), and sets its own
timestamp (texted_at, called_at) in the same transaction, so a sweep run twice, or two sweeps
at once, ask nobody twice. A closed check is not swept; an answer supersedes what has not
gone out. Each rung taken is counted on the check (fanout_counts: sms_escalated,
voice_escalated) and published as a "escalated" safety-check event.

Outcomes that move the ladder: a push handed to a provider starts the silence clock
(asked_at); a push that failed on every device of the person takes them to SMS now; an
opened push sets acknowledged_at; a call answered with 1 or 2 is the answer (channel VOICE;
NEED_HELP makes the life-safety task as any answer does); a call that ended without a key
starts the silence clock if nothing else had.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.ladder import Ladder
from notifications.models import CallStatus, DevicePush, Notification, VoiceCall
from notifications.push_outbox import register_push_handler
from notifications.voice_outbox import register_call_handler

from .alert_escalation import register_alert_handlers
from .fanout import add_counts
from .models import (
    AnswerChannel,
    SafetyCheck,
    SafetyCheckStatus,
    SafetyState,
    SafetyStatus,
    UnreachableReason,
)
from .reach import HAS_PHONE, call_question, ladder_of
from .safety import _queue_questions, mark_unreachable, publish_check_event
from .safety_answers import answer_safety_check

logger = logging.getLogger(__name__)
SWEEP_LIMIT = 1000


def sweep_escalation(now: dt.datetime | None = None, *, check_id: int | None = None) -> dict[str, int]:
    """Take every rung that is due; returns how many residents went to SMS and to voice."""
    now = now or timezone.now()
    totals = {"sms": 0, "voice": 0}
    checks = SafetyCheck.objects.filter(status=SafetyCheckStatus.ACTIVE).select_related("area", "plan_step")
    if check_id is not None:
        checks = checks.filter(pk=check_id)
    for check in checks:
        ladder = ladder_of(check)
        totals["sms"] += _sms_rung(check, ladder, now)
        totals["voice"] += _voice_rung(check, ladder, now)
    return totals


def _open(check: SafetyCheck) -> Q:
    return Q(safety_check=check, status=SafetyState.UNANSWERED)


def _sms_rung(check: SafetyCheck, ladder: Ladder, now: dt.datetime) -> int:
    due = (SafetyStatus.objects.filter(_open(check), HAS_PHONE,
                                       pushed_at__lte=now - dt.timedelta(seconds=ladder.sms_after_seconds),
                                       texted_at__isnull=True, acknowledged_at__isnull=True)
           .exclude(called_at__isnull=False, resident__prefers_voice=True))
    ids = list(due.order_by("-is_vulnerable", "pk").values_list("pk", flat=True)[:SWEEP_LIMIT])
    return escalate_to_sms(check, ids, now, reason="not acknowledged") if ids else 0


def escalate_to_sms(check: SafetyCheck, row_ids: list[int], now: dt.datetime, *, reason: str) -> int:
    """Text (or call, if they prefer voice) these residents now: one transaction, each row
    claimed by a conditional UPDATE of texted_at so that nobody is asked twice."""
    with transaction.atomic():
        SafetyCheck.objects.select_for_update().filter(pk=check.pk).first()  # one escalation per check at a time
        rows = list(SafetyStatus.objects.filter(pk__in=row_ids, status=SafetyState.UNANSWERED, texted_at__isnull=True)
                    .select_related("resident__user"))
        if not rows or check.status != SafetyCheckStatus.ACTIVE:
            return 0
        voice = [r for r in rows if r.resident.prefers_voice and r.resident.sms_phone and r.called_at is None]
        sms = [r for r in rows if r.resident.sms_phone and r not in voice and not r.resident.prefers_voice]
        SafetyStatus.objects.filter(pk__in=[r.pk for r in rows]).update(texted_at=now)
        call_question(check, voice, now)
        refused = _queue_questions(check, sms)
        texted = [r.pk for r in sms if r.pk not in refused]
        SafetyStatus.objects.filter(pk__in=texted).update(asked_by_sms=True)
        # Pushes that failed everywhere and nothing else to try: nobody can ask them.
        stranded = {r.pk: refused.get(r.pk, UnreachableReason.NO_PHONE) for r in rows
                    if r.pk not in texted and r not in voice and r.asked_at is None and r.called_at is None}
        if stranded and reason == "push failed":
            mark_unreachable(check, stranded, vulnerable=[r.pk for r in rows if r.pk in stranded and r.is_vulnerable],
                             now=now)
        add_counts(SafetyCheck, check.pk, sms_escalated=len(texted), voice_escalated=len(voice))
        publish_check_event(check, "escalated", rung="SMS", count=len(texted) + len(voice), reason=reason)
    return len(texted) + len(voice)


def _voice_rung(check: SafetyCheck, ladder: Ladder, now: dt.datetime) -> int:
    if ladder.voice_after_seconds <= 0 or ladder.voice_for == "none":
        return 0
    cutoff = now - dt.timedelta(seconds=ladder.voice_after_seconds)
    due = (SafetyStatus.objects.filter(_open(check), HAS_PHONE, called_at__isnull=True)
           .annotate(first_asked=Coalesce("pushed_at", "texted_at"))
           .filter(first_asked__lte=cutoff))
    if ladder.voice_for == "vulnerable":
        due = due.filter(is_vulnerable=True)
    ids = list(due.order_by("-is_vulnerable", "pk").values_list("pk", flat=True)[:SWEEP_LIMIT])
    if not ids:
        return 0
    with transaction.atomic():
        SafetyCheck.objects.select_for_update().filter(pk=check.pk).first()
        rows = list(SafetyStatus.objects.filter(pk__in=ids, status=SafetyState.UNANSWERED, called_at__isnull=True)
                    .select_related("resident__user"))
        called = call_question(check, rows, now)
        if called:
            add_counts(SafetyCheck, check.pk, voice_escalated=called)
            publish_check_event(check, "escalated", rung="VOICE", count=called, reason="no answer")
    return called


# --- outcomes ---------------------------------------------------------------------------------
def _row_ids(values: list[str]) -> list[int]:
    out = []
    for value in values:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            continue
    return out


def pushes_handed_over(rows: list[DevicePush]) -> None:
    """A provider has the question: the silence clock starts (if nothing asked earlier)."""
    ids = _row_ids([r.related_id for r in rows])
    SafetyStatus.objects.filter(pk__in=ids, asked_at__isnull=True).update(asked_at=timezone.now())


def pushes_failed(rows: list[DevicePush]) -> None:
    """Every push to the person failed (dead tokens, a refused payload): SMS now."""
    by_check: dict[int, list[int]] = {}
    for row_id, check_id in SafetyStatus.objects.filter(pk__in=_row_ids([r.related_id for r in rows])).values_list(
            "pk", "safety_check_id"):
        by_check.setdefault(check_id, []).append(row_id)
    now = timezone.now()
    for check in SafetyCheck.objects.filter(pk__in=list(by_check), status=SafetyCheckStatus.ACTIVE):
        escalate_to_sms(check, by_check[check.pk], now, reason="push failed")


def pushes_acknowledged(notifications: list[Notification]) -> None:
    """The person opened the question in the app: reached (the SMS rung is not needed)."""
    for notification in notifications:
        check_id = _row_ids([notification.related_id])
        if not check_id:
            continue
        SafetyStatus.objects.filter(safety_check_id=check_id[0], resident__user_id=notification.user_id,
                                    acknowledged_at__isnull=True).update(acknowledged_at=notification.acknowledged_at)


def call_answered(call: VoiceCall, answer: str) -> None:
    """Key 1 or 2: the answer, through the same path as any other (channel VOICE)."""
    ids = _row_ids([call.related_id])
    row = SafetyStatus.objects.select_related("resident", "grid", "safety_check").filter(pk__in=ids).first()
    if row is None:
        return
    status = SafetyState.SAFE if answer == "safe" else SafetyState.NEED_HELP
    answer_safety_check(row, status, by=row.resident.user, channel=AnswerChannel.VOICE, source_ref=f"voice:{call.pk}",
                        client_key=f"voice:{call.pk}")


def call_unanswered(call: VoiceCall) -> None:
    """Nobody pressed a key (or the call failed): not an answer. The silence clock starts if
    nothing else had; a call that could not be placed at all to someone nothing else asked
    leaves them unreachable."""
    ids = _row_ids([call.related_id])
    now = timezone.now()
    if call.status != CallStatus.FAILED:
        SafetyStatus.objects.filter(pk__in=ids, asked_at__isnull=True).update(asked_at=now)
        return
    row = (SafetyStatus.objects.filter(pk__in=ids, status=SafetyState.UNANSWERED, asked_at__isnull=True,
                                       asked_by_push=False, asked_by_sms=False).select_related("safety_check").first())
    if row is not None:
        mark_unreachable(row.safety_check, {row.pk: UnreachableReason.UNDELIVERABLE},
                         vulnerable=[row.pk] if row.is_vulnerable else [], now=now)


def register_handlers() -> None:
    register_push_handler("safety_check", handed_over=pushes_handed_over, failed=pushes_failed,
                          acknowledged=pushes_acknowledged)
    register_call_handler("safety_check", answered=call_answered, unanswered=call_unanswered)
    register_alert_handlers()  # an alert's push nobody opens becomes its SMS (alert_escalation.py)
