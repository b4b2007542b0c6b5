"""Putting an area's volunteers and Party members on standby, or calling them in (a plan step).

Who: approved volunteers serving the area (Volunteer.objects.in_pool().serving(area)) and
Party members with a confirmed registration there (PartyMemberRegistration.objects
.confirmed_in(area)); someone who is both is told once. How: a push (notification history)
to everyone, and an SMS to volunteers whose channel includes SMS and to Party members with
a phone. A call-in asks for an answer ("1" can come / "2" cannot, by SMS reply or from the
app); "can come" puts a volunteer on duty so dispatch offers them tasks at once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from graphql_relay import to_global_id

from community.models import Mode, User
from core.errors import field_error
from notifications.models import SmsMessage
from notifications.outbox import SmsItem, queue_sms_bulk, supersede_messages
from notifications.replies import Reply
from notifications.services import notify_many
from notifications.templates import render
from volunteers.models import PartyMemberRegistration, Volunteer
from volunteers.services import do_set_on_duty

from .error_codes import EmergencyErrorCode as Code
from .fanout import bump
from .models import (
    Mobilisation,
    MobilisationKind,
    MobilisationLevel,
    MobilisationResponse,
    PlanStep,
)

logger = logging.getLogger(__name__)
ON_DUTY_AFTER_YES = dt.timedelta(hours=8)
REPLY_WINDOW = dt.timedelta(hours=12)
PHASES = ("volunteers", "party_members")


def mobilise_chunk(step: PlanStep) -> bool:
    """One chunk of a MOBILISE step; True when everyone has been told."""
    phase = step.phase or PHASES[0]
    step.phase = phase
    people = _volunteers(step) if phase == "volunteers" else _party_members(step)
    if not people:
        if phase == PHASES[-1]:
            return True
        step.phase, step.cursor = PHASES[PHASES.index(phase) + 1], 0
        return False
    step.cursor = people[-1][0]
    _tell(step, [(user, kind, sms) for _, user, kind, sms in people])
    return False


def _volunteers(step: PlanStep) -> list[tuple[int, User, str, bool]]:
    rows = (Volunteer.objects.in_pool().serving(step.run.area).filter(pk__gt=step.cursor).select_related("user")
            .order_by("pk")[: settings.EMERGENCY_FANOUT_CHUNK])
    texted = set(Volunteer.objects.filter(pk__in=[v.pk for v in rows]).sms_reachable().values_list("pk", flat=True))
    return [(v.pk, v.user, MobilisationKind.VOLUNTEER, v.pk in texted) for v in rows]


def _party_members(step: PlanStep) -> list[tuple[int, User, str, bool]]:
    if not step.params.get("include_party_members", True):
        return []
    rows = (PartyMemberRegistration.objects.confirmed_in(step.run.area).filter(pk__gt=step.cursor)
            .select_related("user").order_by("pk")[: settings.EMERGENCY_FANOUT_CHUNK])
    return [(r.pk, r.user, MobilisationKind.PARTY_MEMBER, bool(r.user.phone)) for r in rows]


# The English words for what the model's labels say in Chinese.
MODE_EN = {"NORMAL": "normal", "STANDBY": "standby", "EMERGENCY": "emergency", "RECOVERY": "recovery"}
LEVEL_EN = {"STANDBY": "Stand by", "CALL_IN": "Call-in"}


def _tell(step: PlanStep, people: list[tuple[User, str, bool]]) -> None:
    run = step.run
    level = step.params.get("level", MobilisationLevel.STANDBY)
    already = set(Mobilisation.objects.filter(step=step, user__in=[u for u, _, _ in people]).values_list("user_id", flat=True))
    fresh = [(u, k, s) for u, k, s in people if u.pk not in already]
    fresh = list({u.pk: (u, k, s) for u, k, s in fresh}.values())
    if not fresh:
        return
    rows = Mobilisation.objects.bulk_create(
        [Mobilisation(step=step, area=run.area, user=u, kind=k, level=level, is_drill=run.is_drill, by_sms=s)
         for u, k, s in fresh], ignore_conflicts=True,
    )
    by_user = {m.user_id: m for m in Mobilisation.objects.filter(step=step, user__in=[u for u, _, _ in fresh])}
    context = {"area": run.area.name, "mode": Mode(run.mode).label, "level": MobilisationLevel(level).label,
               "mode_en": MODE_EN[run.mode], "level_en": LEVEL_EN[level], "message": step.params.get("message", "")}
    notify_many([u for u, _, _ in fresh], kind="mobilisation", template="emergency.mobilise.push", context=context,
                data={"planRunId": to_global_id("PlanRun", run.pk), "level": level,
                      "areaId": to_global_id("Area", run.area_id)}, related=run, is_drill=run.is_drill)
    queue_sms_bulk([_sms(step, by_user[u.pk], u, level, context) for u, _, s in fresh if s and u.pk in by_user])
    bump(step.counts, **{"told": len(rows), "sms": sum(1 for _, _, s in fresh if s),
                         "volunteers": sum(1 for _, k, _ in fresh if k == MobilisationKind.VOLUNTEER),
                         "party_members": sum(1 for _, k, _ in fresh if k == MobilisationKind.PARTY_MEMBER)})


def _sms(step: PlanStep, mobilisation: Mobilisation, user: User, level: str, context: dict[str, object]) -> SmsItem:
    call_in = level == MobilisationLevel.CALL_IN
    return SmsItem(
        template="emergency.mobilise.callin.sms" if call_in else "emergency.mobilise.standby.sms",
        context=context, purpose="mobilisation", idempotency_key=f"mobilise:{step.pk}:{user.pk}", to_user=user,
        related=mobilisation, is_drill=step.run.is_drill, expects_reply=call_in,
        reply_until=timezone.now() + REPLY_WINDOW if call_in else None,
    )


def respond_to_mobilisation(mobilisation: Mobilisation, available: bool, *, now: dt.datetime | None = None) -> Mobilisation:
    """Record "I can come" / "I cannot"; a later answer replaces an earlier one. A volunteer who
    can come is put on duty so that dispatch offers them tasks — for real only: a drill's
    call-in never changes who real dispatch asks."""
    now = now or timezone.now()
    if mobilisation.level != MobilisationLevel.CALL_IN:
        raise field_error("mobilisation_id", "Standby needs no answer.", Code.INVALID)
    response = MobilisationResponse.AVAILABLE if available else MobilisationResponse.UNAVAILABLE
    with transaction.atomic():
        Mobilisation.objects.filter(pk=mobilisation.pk).update(response=response, responded_at=now)
        mobilisation.response, mobilisation.responded_at = response, now
        supersede_messages(mobilisation, reason="answered")  # the call-in SMS, if no carrier has it yet
        if available and mobilisation.kind == MobilisationKind.VOLUNTEER and not mobilisation.is_drill:
            _put_on_duty(mobilisation.user, now)
    return mobilisation


def _put_on_duty(user: User, now: dt.datetime) -> None:
    volunteer = Volunteer.objects.filter(user=user).first()
    if volunteer is None or (volunteer.on_duty_until and volunteer.on_duty_until >= now + ON_DUTY_AFTER_YES):
        return
    try:
        with transaction.atomic():
            do_set_on_duty(volunteer, now + ON_DUTY_AFTER_YES, now=now)
    except Exception:  # noqa: BLE001 - the answer counts even if the duty switch is refused
        logger.warning("could not put volunteer %s on duty after a call-in", volunteer.pk, exc_info=True)


def handle_mobilisation_reply(prompt: SmsMessage, reply: Reply) -> str | None:
    mobilisation_id = _int(prompt.related_id)
    mobilisation = (None if mobilisation_id is None
                    else Mobilisation.objects.select_related("user").filter(pk=mobilisation_id).first())
    if mobilisation is None:
        return None
    respond_to_mobilisation(mobilisation, reply.intent == "yes")
    name = "emergency.mobilise.reply.yes" if reply.intent == "yes" else "emergency.mobilise.reply.no"
    return render(name, {}, language=prompt.language)


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
