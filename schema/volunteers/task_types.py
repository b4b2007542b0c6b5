"""GraphQL types of tasks, offers, assignments, the timeline and dispatch metrics.

Who sees what: staff with task rights over the task's area see everything (offers, people,
timeline, metrics); phones in full only with the personal-data right there. A volunteer sees
the tasks they were offered or are on, their own offer and place, and the task's exact place
and address only once they hold a place. Lists on a task come from the prefetches of
optimise_tasks, so a board of any size costs the same number of queries.
"""

from __future__ import annotations

import graphene
from django.db.models import Prefetch
from django.utils import timezone
from graphene.types.generic import GenericScalar
from graphene_django import DjangoConnectionField, DjangoObjectType

from volunteers import access
from volunteers.models import (
    AnswerChannel,
    AssignmentStatus,
    Offer,
    OfferPool,
    OfferStatus,
    OfferVia,
    Task,
    TaskAssignment,
    TaskEvent,
    TaskEventKind,
    TaskPriority,
    TaskSource,
    TaskStatus,
    WithdrawReason,
)
from volunteers.services import AnswerOutcome, task_metrics
from volunteers.services.task_metrics import DrillFilter

from ..community.types import AreaType
from ..core.scalars import Location
from ..core.types import CountedConnection, Node
from .types import SkillType, _enum, plain

TaskPriorityEnum = _enum("TaskPriority", TaskPriority, "ROUTINE, URGENT or LIFE_SAFETY: sets answer times, wave size and search radius.")
TaskSourceEnum = _enum("TaskSource", TaskSource)
TaskStatusEnum = _enum("TaskStatus", TaskStatus)
OfferStatusEnum = _enum("OfferStatus", OfferStatus, "LATE: said yes after every place was taken (thanked, recorded).")
OfferPoolEnum = _enum("OfferPool", OfferPool)
OfferViaEnum = _enum("OfferVia", OfferVia)
AnswerChannelEnum = _enum("AnswerChannel", AnswerChannel)
WithdrawReasonEnum = _enum("OfferWithdrawReason", WithdrawReason)
AssignmentStatusEnum = _enum("TaskAssignmentStatus", AssignmentStatus)
TaskEventKindEnum = _enum("TaskEventKind", TaskEventKind)
AnswerOutcomeEnum = graphene.Enum.from_enum(AnswerOutcome, description="ACCEPTED: the place is yours. LATE: every place was taken first.")
DrillFilterEnum = graphene.Enum.from_enum(DrillFilter, description="EXCLUDE drills (default), ONLY drills, or INCLUDE both.")

MAX_OFFERS_LISTED = 200


def _viewer(info):
    return info.context.user


def _cached(obj, name: str):
    """The prefetched related list if there is one, else None (the caller decides)."""
    cache = getattr(obj, "_prefetched_objects_cache", {})
    return list(cache[name]) if name in cache else None


def _related(obj, name: str) -> list:
    found = _cached(obj, name)
    return found if found is not None else list(getattr(obj, name).all())


def _name(user) -> str:
    return user.public_name if user is not None else ""


def _phone(user, show_full: bool) -> str | None:
    if user is None or not user.phone:
        return None
    return str(user.phone) if show_full else user.masked_phone


def optimise_tasks(queryset):
    """Everything a task board shows, in a fixed number of queries for any page size."""
    return queryset.select_related("area", "created_by").prefetch_related(
        "required_skills",
        Prefetch("offers", queryset=Offer.objects.select_related("user").order_by("offered_at", "id")),
        Prefetch("assignments", queryset=TaskAssignment.objects.select_related("user", "hours_entry").order_by("assigned_at", "id")),
    )


class TaskMetricsType(graphene.ObjectType):
    class Meta:
        name = "TaskMetrics"
        description = "How dispatch went (see mobile_api_docs/tasks.md for the definitions)."

    offers = graphene.Int(required=True)
    accepted = graphene.Int(required=True)
    late = graphene.Int(required=True)
    declined = graphene.Int(required=True)
    expired = graphene.Int(required=True)
    withdrawn = graphene.Int(required=True)
    pending = graphene.Int(required=True)
    waves = graphene.Int(required=True)
    radius_m = graphene.Int(required=True, description="Search radius reached.")
    filled_places = graphene.Int(required=True)
    seconds_to_first_acceptance = graphene.Float()
    seconds_to_staffed = graphene.Float()
    offers_per_filled_place = graphene.Float()
    acceptance_rate = graphene.Float()
    expiry_rate = graphene.Float()
    decline_rate = graphene.Float()

    @staticmethod
    def build(metrics) -> TaskMetricsType:
        c = metrics.counts
        return TaskMetricsType(
            offers=c.offers, accepted=c.accepted, late=c.late, declined=c.declined, expired=c.expired,
            withdrawn=c.withdrawn, pending=c.pending, waves=metrics.waves, radius_m=metrics.radius_m,
            filled_places=metrics.filled_places, seconds_to_first_acceptance=metrics.seconds_to_first_acceptance,
            seconds_to_staffed=metrics.seconds_to_staffed, offers_per_filled_place=metrics.offers_per_filled_place,
            acceptance_rate=metrics.acceptance_rate, expiry_rate=metrics.expiry_rate, decline_rate=metrics.decline_rate,
        )


class TaskEventType(DjangoObjectType):
    kind = graphene.Field(TaskEventKindEnum, required=True)
    data = GenericScalar(required=True, description="What changed: counts, radius, fields (old, new), reasons.")
    actor_name = graphene.String(description="Who did it; null for the system.")
    subject_name = graphene.String(description="The person it concerns, if any.")

    class Meta:
        model = TaskEvent
        name = "TaskEvent"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "kind", "at", "wave", "data")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = _viewer(info)
        return queryset.filter(task__in=access.visible_tasks(user)).select_related("actor", "subject")

    @classmethod
    def get_node(cls, info, id):
        event = TaskEvent.objects.select_related("task__area", "actor", "subject").filter(pk=id).first()
        return event if event is not None and access.can_manage_task(_viewer(info), event.task) else None

    def resolve_kind(self, info):
        return plain(self.kind)

    def resolve_actor_name(self, info):
        return _name(self.actor) or None

    def resolve_subject_name(self, info):
        return _name(self.subject) or None


class _PersonOnTask:
    """The person an offer or a place is for: their name, and their phone for themself and
    for staff with the personal-data right in the task's area."""

    def resolve_person_name(self, info):
        return _name(self.user)

    def resolve_phone(self, info):
        viewer = _viewer(info)
        if self.user_id == viewer.pk:
            return _phone(self.user, True)
        return _phone(self.user, access.can_see_task_personal_data(viewer, self.task))


class OfferType(_PersonOnTask, DjangoObjectType):
    status = graphene.Field(OfferStatusEnum, required=True)
    pool = graphene.Field(OfferPoolEnum, required=True)
    via = graphene.Field(OfferViaEnum, required=True)
    answered_via = graphene.Field(AnswerChannelEnum)
    withdrawn_reason = graphene.Field(WithdrawReasonEnum)
    task = graphene.Field(lambda: TaskType, required=True)
    person_name = graphene.String(required=True)
    phone = graphene.String(description="Staff: masked unless they may see personal data in the task's area.")
    sms_code = graphene.String(description="The reply code printed in the SMS (yours only).")
    seconds_left = graphene.Int(required=True, description="Until expiresAt; 0 once past or answered.")

    class Meta:
        model = Offer
        name = "Offer"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "status", "wave", "rank", "distance_m", "offered_at", "expires_at", "answered_at",
                  "answered_via", "withdrawn_reason", "is_drill", "pool", "via", "task")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_offers(_viewer(info)).values("pk")
        return queryset.filter(pk__in=visible).select_related("task__area", "user").prefetch_related("task__required_skills")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Offer.objects.filter(pk=id), info).first()

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_pool(self, info):
        return plain(self.pool)

    def resolve_via(self, info):
        return plain(self.via)

    def resolve_answered_via(self, info):
        return plain(self.answered_via)

    def resolve_withdrawn_reason(self, info):
        return plain(self.withdrawn_reason)

    def resolve_sms_code(self, info):
        return (self.sms_code or None) if self.user_id == _viewer(info).pk else None

    def resolve_seconds_left(self, info):
        if self.status != OfferStatus.PENDING:
            return 0
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))


class TaskAssignmentType(_PersonOnTask, DjangoObjectType):
    status = graphene.Field(AssignmentStatusEnum, required=True)
    task = graphene.Field(lambda: TaskType, required=True)
    person_name = graphene.String(required=True)
    phone = graphene.String(description="Staff: masked unless they may see personal data in the task's area.")
    hours = graphene.Decimal(description="Service hours credited when completed.")
    added_by_staff = graphene.Boolean(required=True)

    class Meta:
        model = TaskAssignment
        name = "TaskAssignment"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "status", "assigned_at", "en_route_at", "on_site_at", "on_site_distance_m", "completed_at",
                  "ended_at", "end_reason", "task")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_assignments(_viewer(info)).values("pk")
        return queryset.filter(pk__in=visible).select_related("task__area", "user", "hours_entry")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(TaskAssignment.objects.filter(pk=id), info).first()

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_hours(self, info):
        return self.hours_entry.hours if self.hours_entry_id else None

    def resolve_added_by_staff(self, info):
        return self.added_by_id is not None


class TaskType(DjangoObjectType):
    status = graphene.Field(TaskStatusEnum, required=True)
    priority = graphene.Field(TaskPriorityEnum, required=True)
    source = graphene.Field(TaskSourceEnum, required=True)
    area = graphene.Field(AreaType, required=True)
    places_left = graphene.Int(required=True)
    required_skills = graphene.List(graphene.NonNull(SkillType), required=True)
    location = graphene.Field(Location, description="WGS-84. Exact for staff with the personal-data right in the task's area and for the people holding a place; rounded to about 100 m for other staff.")
    address = graphene.String(description="For staff with the personal-data right in the task's area and the people holding a place; null for others.")
    created_by_name = graphene.String()
    can_manage = graphene.Boolean(required=True, description="You may edit, staff, cancel and close it.")
    offers = graphene.List(
        graphene.NonNull(OfferType), required=True, statuses=graphene.List(graphene.NonNull(OfferStatusEnum)),
        description=f"Staff: offers, in the order sent (at most {MAX_OFFERS_LISTED}). Others: empty.",
    )
    people = graphene.List(
        graphene.NonNull(TaskAssignmentType), required=True, active_only=graphene.Boolean(default_value=False),
        description="Staff: everyone who held a place. Others: empty (see myAssignment).",
    )
    my_offer = graphene.Field(OfferType, description="Your offer for this task, if any.")
    my_assignment = graphene.Field(TaskAssignmentType, description="Your place on this task, if any (the latest).")
    metrics = graphene.Field(TaskMetricsType, description="Staff: how dispatch went.")
    timeline = DjangoConnectionField(
        TaskEventType, description="Staff: every change, wave, offer, answer and expiry, oldest first."
    )

    class Meta:
        model = Task
        name = "Task"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "title", "description", "headcount", "filled_count", "people_to_help", "priority", "source", "status", "is_drill",
                  "starts_at", "deadline", "checkin_radius_m", "version", "created_at", "updated_at", "auto_dispatch",
                  "wave_count", "radius_m", "dispatch_started_at", "first_accepted_at", "staffed_at", "started_at",
                  "closed_at", "status_reason", "area")

    @classmethod
    def get_queryset(cls, queryset, info):
        return optimise_tasks(queryset.filter(pk__in=access.visible_tasks(_viewer(info)).values("pk")))

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Task.objects.filter(pk=id), info).first()

    def _staff(self, info) -> bool:
        if not hasattr(self, "_can_manage"):
            self._can_manage = access.can_manage_task(_viewer(info), self)
        return self._can_manage

    def _holds_place(self, info) -> bool:
        viewer = _viewer(info)
        held = ("ACCEPTED", "EN_ROUTE", "ON_SITE", "COMPLETED")
        return any(a.user_id == viewer.pk and a.status in held for a in _related(self, "assignments"))

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_priority(self, info):
        return plain(self.priority)

    def resolve_source(self, info):
        return plain(self.source)

    def resolve_places_left(self, info):
        return self.places_left

    def resolve_required_skills(self, info):
        return _related(self, "required_skills")

    def _sees_door(self, info) -> bool:
        """The exact place: a task often stands at someone's home (a call for help, a welfare
        visit), so it follows the personal-data rule: staff with that right in the task's
        area, and the people holding a place. Other staff (commanders) see the neighbourhood."""
        if not hasattr(self, "_door"):
            self._door = TaskType._holds_place(self, info) or access.can_see_task_personal_data(_viewer(info), self)
        return self._door

    def resolve_location(self, info):
        if self.point is None:
            return None
        if TaskType._sees_door(self, info):
            return Location(latitude=self.lat, longitude=self.lng)
        if TaskType._staff(self, info):  # ~100 m: enough for a map of the situation
            return Location(latitude=round(self.lat, 3), longitude=round(self.lng, 3))
        return None

    def resolve_address(self, info):
        return (self.address or None) if TaskType._sees_door(self, info) else None

    def resolve_created_by_name(self, info):
        return _name(self.created_by) or None

    def resolve_can_manage(self, info):
        return TaskType._staff(self, info)

    def resolve_offers(self, info, statuses=None):
        if not TaskType._staff(self, info):
            return []
        offers = _related(self, "offers")
        if statuses:
            wanted = {plain(s) for s in statuses}
            offers = [o for o in offers if o.status in wanted]
        return offers[:MAX_OFFERS_LISTED]

    def resolve_people(self, info, active_only=False):
        if not TaskType._staff(self, info):
            return []
        people = _related(self, "assignments")
        return [a for a in people if a.is_active] if active_only else people

    def resolve_my_offer(self, info):
        viewer = _viewer(info)
        cached = _cached(self, "offers")
        if cached is not None:
            return next((o for o in cached if o.user_id == viewer.pk), None)
        return Offer.objects.select_related("user").filter(task=self, user=viewer).first()

    def resolve_my_assignment(self, info):
        viewer = _viewer(info)
        cached = _cached(self, "assignments")
        if cached is not None:
            mine = [a for a in cached if a.user_id == viewer.pk]
            return mine[-1] if mine else None
        return TaskAssignment.objects.filter(task=self, user=viewer).order_by("-assigned_at", "-id").first()

    def resolve_metrics(self, info):
        if not TaskType._staff(self, info):
            return None
        return TaskMetricsType.build(task_metrics(self, _cached(self, "offers"), _cached(self, "assignments")))

    def resolve_timeline(self, info, **kwargs):
        if not TaskType._staff(self, info):
            return TaskEvent.objects.none()
        return TaskEvent.objects.filter(task=self).select_related("actor", "subject").order_by("at", "id")


class DispatchParametersType(graphene.ObjectType):
    class Meta:
        name = "DispatchParameters"
        description = "What applies to a task of this priority in this area now (defaults, area overrides, mode)."

    priority = graphene.Field(TaskPriorityEnum, required=True)
    mode = graphene.String(required=True, description="The area's effective mode.")
    answer_seconds = graphene.Int(required=True)
    wave_factor = graphene.Float(required=True)
    radius_start_m = graphene.Int(required=True)
    radius_step_m = graphene.Int(required=True)
    radius_max_m = graphene.Int(required=True)
    ranking_band_m = graphene.Int(required=True)
    overridden = graphene.List(graphene.NonNull(graphene.String), required=True, description="Set by an area override.")


class AreaDispatchMetricsType(graphene.ObjectType):
    class Meta:
        name = "AreaDispatchMetrics"
        description = "Tasks created in an area's subtree over a period (local dates, inclusive)."

    area = graphene.Field(AreaType, required=True)
    from_ = graphene.Date(required=True, name="from")
    to = graphene.Date(required=True)
    drills = graphene.Field(DrillFilterEnum, required=True)
    tasks = graphene.Int(required=True)
    by_status = GenericScalar(required=True, description='{"DONE": 12, "UNSTAFFED": 1, ...}')
    ever_staffed = graphene.Int(required=True)
    ever_unstaffed = graphene.Int(required=True)
    offers = graphene.Int(required=True)
    accepted = graphene.Int(required=True)
    late = graphene.Int(required=True)
    declined = graphene.Int(required=True)
    expired = graphene.Int(required=True)
    withdrawn = graphene.Int(required=True)
    filled_places = graphene.Int(required=True)
    offers_per_filled_place = graphene.Float()
    acceptance_rate = graphene.Float()
    expiry_rate = graphene.Float()
    decline_rate = graphene.Float()
    median_seconds_to_first_acceptance = graphene.Float()
    p90_seconds_to_first_acceptance = graphene.Float()
    median_seconds_to_staffed = graphene.Float()
    p90_seconds_to_staffed = graphene.Float()

    @staticmethod
    def build(m) -> AreaDispatchMetricsType:
        c = m.counts
        return AreaDispatchMetricsType(
            area=m.area, from_=m.start, to=m.end, drills=m.drills, tasks=m.tasks, by_status=m.by_status,
            ever_staffed=m.ever_staffed, ever_unstaffed=m.ever_unstaffed, offers=c.offers, accepted=c.accepted,
            late=c.late, declined=c.declined, expired=c.expired, withdrawn=c.withdrawn, filled_places=m.filled_places,
            offers_per_filled_place=m.offers_per_filled_place, acceptance_rate=m.acceptance_rate,
            expiry_rate=m.expiry_rate, decline_rate=m.decline_rate,
            median_seconds_to_first_acceptance=m.median_seconds_to_first_acceptance,
            p90_seconds_to_first_acceptance=m.p90_seconds_to_first_acceptance,
            median_seconds_to_staffed=m.median_seconds_to_staffed, p90_seconds_to_staffed=m.p90_seconds_to_staffed,
        )
