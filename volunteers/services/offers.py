"""Answering an offer, from the app (respondToOffer) or by SMS (the notifications reply
router, purpose "task_offer"). First come, first served, decided in the database:

1. the offer's own PENDING -> ACCEPTED is a conditional UPDATE that also requires
   expires_at > now, so an answer racing the expiry sweep has exactly one outcome;
2. a place is claimed with a conditional UPDATE on the task (filled_count < headcount);
3. no place left: the offer becomes LATE — the person is thanked and told it is staffed.
   An offer withdrawn because the task filled up still takes a "yes" before its deadline:
   a place that came free since is theirs, otherwise the answer is LATE.

Lock order is always offer, then volunteer, then task; the transaction that fills the last
place withdraws the other pending offers with SKIP LOCKED, never waiting for an answer in
flight, so fifty people accepting three places at once cannot deadlock: three win, and
every other "yes" ends LATE.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import ValidationError
from notifications.models import SmsMessage
from notifications.outbox import supersede_messages
from notifications.replies import Reply

from ..dispatch import timeline
from ..dispatch.record import record_answers
from ..dispatch.state import after_answer, lock_task, staff_if_full
from ..dispatch.texts import sms_reply
from ..error_codes import VolunteersErrorCode as Code
from ..models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    CLOSED_TASK_STATUSES,
    AnswerChannel,
    Offer,
    OfferOutcome,
    OfferStatus,
    Task,
    TaskAssignment,
    TaskEventKind,
    Volunteer,
    WithdrawReason,
)

logger = logging.getLogger(__name__)


class AnswerOutcome(StrEnum):
    ACCEPTED = "ACCEPTED"  # a place is yours
    LATE = "LATE"  # every place was taken first: thank you
    DECLINED = "DECLINED"


@dataclass(frozen=True)
class OfferAnswer:
    offer: Offer
    outcome: AnswerOutcome
    assignment: TaskAssignment | None = None


def _refusal(offer: Offer, now: dt.datetime) -> ValidationError:
    """Why an offer could not be answered (it is no longer PENDING or its time is up)."""
    offer.refresh_from_db()
    if offer.status == OfferStatus.WITHDRAWN:
        return ValidationError("The task no longer needs people; no answer needed.", code=Code.OFFER_WITHDRAWN)
    if offer.status == OfferStatus.EXPIRED or (offer.status == OfferStatus.PENDING and offer.expires_at <= now):
        return ValidationError("The time to answer this offer has passed.", code=Code.OFFER_EXPIRED)
    return ValidationError(f"This offer was already answered ({offer.get_status_display()}).", code=Code.OFFER_ALREADY_ANSWERED)


def respond_to_offer(offer: Offer, *, accept: bool, via: str = AnswerChannel.APP, now: dt.datetime | None = None,
                     people: int = 1) -> OfferAnswer:
    """Accept or decline. The caller has checked that the answer comes from the offer's person.
    A team's leader accepts for `people` places (volunteers.services.teams checks the number);
    everyone else takes one."""
    now = now or timezone.now()
    with transaction.atomic():
        answer = _accept(offer, via, now, people) if accept else _decline(offer, via, now)
        # Answered (in the app, or by SMS): the offer's SMS still queued asks for nothing now.
        supersede_messages(offer, reason="offer answered")
        return answer


def _close(offer: Offer, to: str, via: str, now: dt.datetime) -> bool:
    """PENDING -> `to`, only before the deadline: the one conditional UPDATE that decides."""
    return bool(
        Offer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING, expires_at__gt=now).update(
            status=to, answered_at=now, answered_via=via, closed_at=now,
        )
    )


def _decline(offer: Offer, via: str, now: dt.datetime) -> OfferAnswer:
    if not _close(offer, OfferStatus.DECLINED, via, now):
        raise _refusal(offer, now)
    offer.refresh_from_db()
    record_answers([offer.volunteer_id], OfferOutcome.DECLINED)
    timeline.record(offer.task, TaskEventKind.DECLINED, offer=offer, wave=offer.wave, at=now, via=via)
    after_answer(Task.objects.get(pk=offer.task_id), now)
    timeline.publish_offer(offer)
    timeline.publish_task(offer.task, TaskEventKind.DECLINED)
    return OfferAnswer(offer, AnswerOutcome.DECLINED)


def _accept(offer: Offer, via: str, now: dt.datetime, people: int = 1) -> OfferAnswer:
    if not _close(offer, OfferStatus.ACCEPTED, via, now) and not _reclaim_withdrawn(offer, via, now):
        raise _refusal(offer, now)
    if offer.team_id is None:  # a team's leader answers for the team, not for their own load
        _check_load(offer)
    claimed = Task.objects.filter(pk=offer.task_id, filled_count__lte=F("headcount") - people).exclude(
        status__in=CLOSED_TASK_STATUSES).update(filled_count=F("filled_count") + people, updated_at=now)
    if not claimed:
        task = Task.objects.get(pk=offer.task_id)
        if task.is_closed:
            raise ValidationError("The task is over; no answer needed.", code=Code.OFFER_WITHDRAWN)
        if 0 < task.places_left < people:  # raising rolls the offer's answer back: it stays open
            raise ValidationError({"people": f"Only {task.places_left} places are left; accept for at most that many."},
                                  code=Code.NOT_ENOUGH_PLACES)
        Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.LATE)
        return _late(offer, via, now)
    task = lock_task(offer.task_id)  # the claim's UPDATE holds the row already: this only reads it
    Offer.objects.filter(pk=offer.pk).exclude(withdrawn_reason="").update(withdrawn_reason="")
    if offer.team_id is not None:
        Offer.objects.filter(pk=offer.pk).update(people=people)
    offer.refresh_from_db()
    assignment = TaskAssignment.objects.create(
        task=task, user_id=offer.user_id, volunteer_id=offer.volunteer_id, offer=offer, assigned_at=now,
        team_id=offer.team_id, people=people,
    )
    record_answers([offer.volunteer_id], OfferOutcome.ACCEPTED)
    if task.first_accepted_at is None:
        task.first_accepted_at = now
        Task.objects.filter(pk=task.pk).update(first_accepted_at=now)
    if offer.team_id is None:
        timeline.record(task, TaskEventKind.ACCEPTED, offer=offer, wave=offer.wave, at=now, via=via)
    else:
        timeline.record(task, TaskEventKind.ACCEPTED, offer=offer, wave=offer.wave, at=now, via=via, team=offer.team_id,
                        people=people)
    if not staff_if_full(task, now):
        after_answer(task, now)
    timeline.publish_offer(offer)
    timeline.publish_task(task, TaskEventKind.ACCEPTED)
    return OfferAnswer(offer, AnswerOutcome.ACCEPTED, assignment)


def _reclaim_withdrawn(offer: Offer, via: str, now: dt.datetime) -> bool:
    """An offer withdrawn because the task filled up, answered yes before its deadline: the
    answer still counts — it takes a place that has come free since, else it is LATE."""
    return bool(
        Offer.objects.filter(pk=offer.pk, status=OfferStatus.WITHDRAWN, withdrawn_reason=WithdrawReason.STAFFED,
                             expires_at__gt=now).update(status=OfferStatus.ACCEPTED, answered_at=now, answered_via=via)
    )


def _late(offer: Offer, via: str, now: dt.datetime) -> OfferAnswer:
    offer.refresh_from_db()
    record_answers([offer.volunteer_id], OfferOutcome.ACCEPTED)  # they said yes: it counts as an answer
    timeline.record(offer.task, TaskEventKind.LATE, offer=offer, wave=offer.wave, at=now, via=via)
    timeline.publish_offer(offer)
    return OfferAnswer(offer, AnswerOutcome.LATE)


def _check_load(offer: Offer) -> None:
    """Under the person's own limit of tasks at once (checked again at the moment of yes)."""
    limit = 1
    if offer.volunteer_id is not None:
        volunteer = Volunteer.objects.select_for_update(no_key=True).filter(pk=offer.volunteer_id).only("max_concurrent_tasks").first()
        limit = volunteer.max_concurrent_tasks if volunteer else 1
    held = TaskAssignment.objects.filter(user_id=offer.user_id, status__in=ACTIVE_ASSIGNMENT_STATUSES).exclude(task_id=offer.task_id).count()
    if held >= limit:
        raise ValidationError(f"You already hold {held} task(s), your limit; finish or withdraw from one first.",
                              code=Code.TOO_MANY_TASKS)


# --- SMS ----------------------------------------------------------------------------------
_REFUSAL_REPLY: dict[str, str] = {
    Code.OFFER_EXPIRED: "expired",
    Code.OFFER_WITHDRAWN: "withdrawn",
    Code.OFFER_ALREADY_ANSWERED: "already",
    Code.TOO_MANY_TASKS: "too_many",
}


def handle_offer_reply(prompt: SmsMessage, reply: Reply) -> str | None:
    """The reply router's handler for purpose "task_offer": yes/no to the offer the prompt
    carried (取消, "cancel", is a no). Runs inside the router's transaction; never raises for
    a refused answer (the person is told why instead)."""
    offer_id = _int(prompt.related_id)
    offer = None if offer_id is None else Offer.objects.select_related("task__area").filter(pk=offer_id).first()
    if offer is None or reply.intent not in ("yes", "no", "cancel"):
        logger.warning("SMS reply to task offer prompt %s could not be applied", prompt.pk)
        return None
    context = {"task": offer.task.title, "area": offer.task.area.name}
    try:
        answer = respond_to_offer(offer, accept=reply.intent == "yes", via=AnswerChannel.SMS)
    except ValidationError as exc:
        kind = _REFUSAL_REPLY.get(str(getattr(exc, "code", "")), "already")
        return sms_reply(kind, prompt.language, **context)
    return sms_reply(answer.outcome.lower(), prompt.language, **context)


def offer_still_waiting(prompt: SmsMessage) -> bool:
    """For the reply router: the offer an SMS asked about is still open — pending, or withdrawn
    (a late yes is still thanked, or takes a place come free) — not answered in the app."""
    offer_id = _int(prompt.related_id)
    return offer_id is not None and Offer.objects.filter(
        pk=offer_id, status__in=[OfferStatus.PENDING, OfferStatus.WITHDRAWN]).exists()


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
