"""The volunteer's side: answer an offer, then on the way, on site, done — or withdraw.
Staff with task rights over the task may complete a place for someone (optionally with the
hours). Only the offer's or the place's own person may answer or move it otherwise."""

from __future__ import annotations

import graphene

from core.errors import ValidationError
from volunteers import access
from volunteers.error_codes import VolunteersErrorCode
from volunteers.models import AnswerChannel, Offer, TaskAssignment
from volunteers.services import (
    check_in_on_site,
    complete_assignment,
    mark_en_route,
    respond_to_offer,
    withdraw_from_task,
)

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.throttle import Throttle
from ..task_types import AnswerOutcomeEnum, OfferType, TaskAssignmentType


def own_offer(info, offer_id: str) -> Offer:
    """Your offer; someone else's is refused (FORBIDDEN) and nothing changes."""
    user = current_user(info)
    offer = get_node_or_error(Offer.objects.select_related("task__area", "user"), offer_id, "offer_id")
    if offer.user_id != user.pk:
        raise PermissionDenied("This offer was made to someone else.")
    return offer


def own_assignment(info, assignment_id: str, *, staff_may: bool = False) -> tuple[TaskAssignment, bool]:
    """Your place (or, where staff_may, one on a task you manage); the bool says staff acts."""
    user = current_user(info)
    assignment = get_node_or_error(TaskAssignment.objects.select_related("task__area", "user", "offer"), assignment_id, "assignment_id")
    if assignment.user_id == user.pk:
        return assignment, False
    if staff_may and access.can_manage_task(user, assignment.task):
        return assignment, True
    raise PermissionDenied("This place on the task is someone else's.")


class RespondToOffer(BaseMutation):
    """Accept or decline an offer made to you. `outcome` ACCEPTED: the place is yours (see
    `assignment`); LATE: every place was taken a moment before — thank you. Refused with
    OFFER_EXPIRED, OFFER_WITHDRAWN, OFFER_ALREADY_ANSWERED or TOO_MANY_TASKS."""

    offer = graphene.Field(OfferType)
    outcome = graphene.Field(AnswerOutcomeEnum)
    assignment = graphene.Field(TaskAssignmentType)

    class Arguments:
        offer_id = graphene.ID(required=True)
        accept = graphene.Boolean(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, offer_id, accept):
        answer = respond_to_offer(own_offer(info, offer_id), accept=accept, via=AnswerChannel.APP)
        return cls(errors=[], offer=answer.offer, outcome=answer.outcome.value, assignment=answer.assignment)


class _AssignmentStep(BaseMutation):
    assignment = graphene.Field(TaskAssignmentType)

    class Meta:
        abstract = True


class MarkEnRoute(_AssignmentStep):
    """On the way (after accepting)."""

    class Arguments:
        assignment_id = graphene.ID(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, assignment_id):
        assignment, _ = own_assignment(info, assignment_id)
        return cls(errors=[], assignment=mark_en_route(assignment))


class CheckInOnSite(_AssignmentStep):
    """Arrived: your position (say its datum) must be within the task's checkinRadiusM of it;
    otherwise OUTSIDE_RADIUS, with the distance in the message."""

    class Arguments:
        assignment_id = graphene.ID(required=True)
        location = LocationInput(required=True)

    class Meta:
        idempotent = True
        throttle = Throttle("task_checkin", per_user=20)

    @classmethod
    def perform_mutation(cls, root, info, assignment_id, location):
        assignment, _ = own_assignment(info, assignment_id)
        point = location_to_wgs84(location, "location")
        return cls(errors=[], assignment=check_in_on_site(assignment, point))


class CompleteTaskAssignment(_AssignmentStep):
    """Done: you (after checking in on site), or staff for you (hours optional: by default
    the time since arriving, to the quarter hour). Your service hours are recorded once."""

    class Arguments:
        assignment_id = graphene.ID(required=True)
        hours = graphene.Decimal(description="Staff only: the hours to credit (0.25 to 24).")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, assignment_id, hours=None):
        assignment, staff = own_assignment(info, assignment_id, staff_may=True)
        if hours is not None and not staff:
            raise PermissionDenied("Only staff set the hours; yours are counted from your check-in.")
        if hours is not None and not (0.25 <= float(hours) <= 24):
            raise ValidationError({"hours": "Between 0.25 and 24 hours."}, code=VolunteersErrorCode.INVALID_HOURS)
        done = complete_assignment(assignment, by=current_user(info), staff=staff, hours=hours)
        return cls(errors=[], assignment=done)


class WithdrawFromTask(_AssignmentStep):
    """You can no longer do it: the place reopens and others are asked. Please say why."""

    class Arguments:
        assignment_id = graphene.ID(required=True)
        reason = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, assignment_id, reason=""):
        assignment, _ = own_assignment(info, assignment_id)
        return cls(errors=[], assignment=withdraw_from_task(assignment, reason=reason))
