"""Staff choosing people by hand: offer a task to a named volunteer (an ordinary offer, with
its deadline, push and SMS), or put someone on it directly (they take a place at once)."""

from __future__ import annotations

import datetime as dt
import math

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from graphql_relay import to_global_id

from community.geo import distance_m
from community.models import User
from core.errors import ValidationError
from notifications.consent import is_opted_out
from notifications.outbox import queue_sms, supersede_messages
from notifications.services import notify_template

from ..dispatch import timeline
from ..dispatch.delivery import SMS_CHANNELS
from ..dispatch.parameters import dispatch_parameters
from ..dispatch.ranking import Candidate
from ..dispatch.state import lock_task, move_task, require_open, staff_if_full
from ..dispatch.waves import make_offers
from ..error_codes import VolunteersErrorCode as Code
from ..models import (
    Offer,
    OfferPool,
    OfferStatus,
    OfferVia,
    Task,
    TaskAssignment,
    TaskEventKind,
    TaskStatus,
    Volunteer,
    VolunteerStatus,
)


def _require_in_pool(volunteer: Volunteer) -> None:
    if volunteer.status != VolunteerStatus.APPROVED or not volunteer.user.is_active:
        raise ValidationError({"volunteer_id": "Only approved volunteers can be given tasks."}, code=Code.NOT_APPROVED)


def _require_not_on_task(task: Task, user_id: int) -> None:
    if TaskAssignment.objects.filter(task=task, user_id=user_id, status__in=["ACCEPTED", "EN_ROUTE", "ON_SITE", "COMPLETED"]).exists():
        raise ValidationError({"volunteer_id": "This person is already on the task."}, code=Code.ALREADY_ASSIGNED)


def _require_place(task: Task) -> None:
    if task.places_left <= 0:
        raise ValidationError("Every place is taken; raise the headcount first.", code=Code.TASK_FULL)


def offer_task_to(task: Task, volunteer: Volunteer, *, by: User, now: dt.datetime | None = None) -> Offer:
    """Offer the task to this volunteer, whatever their distance or availability (staff know
    best); refused if they were already asked or are on it."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        _require_place(task)
        _require_in_pool(volunteer)
        _require_not_on_task(task, volunteer.user_id)
        if Offer.objects.filter(task=task, user_id=volunteer.user_id).exists():
            raise ValidationError({"volunteer_id": "This person was already offered the task."}, code=Code.ALREADY_OFFERED)
        point = volunteer.effective_point(now)
        candidate = Candidate(
            user_id=volunteer.user_id, volunteer_id=volunteer.pk, pool=OfferPool.VOLUNTEER,
            lat=point[0] if point else task.site[0], lng=point[1] if point else task.site[1], reliability=volunteer.reliability,
            load=0, channel=volunteer.contact_channel,
            distance_m=distance_m(task.site, point) if point else math.inf,
        )
        try:
            with transaction.atomic():
                [offer] = make_offers(task, [candidate], dispatch_parameters(task), now, wave=0, via=OfferVia.STAFF, offered_by=by)
        except IntegrityError:
            raise ValidationError({"volunteer_id": "This person was already offered the task."}, code=Code.ALREADY_OFFERED)
        if task.status in (TaskStatus.OPEN, TaskStatus.UNSTAFFED):
            move_task(task, TaskStatus.DISPATCHING, now, dispatch_started_at=task.dispatch_started_at or now)
        timeline.publish_task(task, TaskEventKind.OFFERED)
    return offer


def add_person(task: Task, volunteer: Volunteer, *, by: User, now: dt.datetime | None = None) -> TaskAssignment:
    """Put a volunteer on the task at once (a place is claimed); a pending offer they had for
    it counts as accepted. They are told by push, and by SMS if that is their channel."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        _require_in_pool(volunteer)
        _require_not_on_task(task, volunteer.user_id)
        claimed = Task.objects.filter(pk=task.pk, filled_count__lt=F("headcount")).update(filled_count=F("filled_count") + 1, updated_at=now)
        if not claimed:
            _require_place(Task.objects.get(pk=task.pk))
        task.filled_count += 1
        offer = Offer.objects.filter(task=task, user_id=volunteer.user_id, status=OfferStatus.PENDING).first()
        if offer is not None:
            Offer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING).update(status=OfferStatus.ACCEPTED, answered_at=now, closed_at=now)
            offer.status = OfferStatus.ACCEPTED
            timeline.publish_offer(offer)
            # Its push and SMS still queued ask a question staff have just answered.
            supersede_messages(offer, reason="offer answered: added by staff")
        try:
            with transaction.atomic():
                assignment = TaskAssignment.objects.create(task=task, user=volunteer.user, volunteer=volunteer, offer=offer,
                                                           added_by=by, assigned_at=now)
        except IntegrityError:
            raise ValidationError({"volunteer_id": "This person is already on the task."}, code=Code.ALREADY_ASSIGNED)
        timeline.record(task, TaskEventKind.PERSON_ADDED, actor=by, subject_id=volunteer.user_id, at=now)
        _tell_added(task, assignment, volunteer)
        staff_if_full(task, now)
        timeline.publish_task(task, TaskEventKind.PERSON_ADDED)
    return assignment


def _tell_added(task: Task, assignment: TaskAssignment, volunteer: Volunteer) -> None:
    user = volunteer.user
    context = {"task": task.title, "area": task.area.name}
    data = {"taskId": to_global_id("Task", task.pk), "assignmentId": to_global_id("TaskAssignment", assignment.pk)}
    notify_template(user, "task.assignment.added", context, kind="task.assignment.added", data=data,
                    related=assignment, is_drill=task.is_drill)
    if volunteer.contact_channel in SMS_CHANNELS and user.phone and not is_opted_out(user.phone):
        queue_sms(template="task.assignment.added.sms", context=context, purpose="task_assignment_added",
                  idempotency_key=f"task-assignment-added:{assignment.pk}", to_user=user, related=assignment,
                  is_drill=task.is_drill)
