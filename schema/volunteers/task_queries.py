"""Task queries: the grid worker's board, one task, a volunteer's offers and places, the
dispatch parameters in force, and dispatch metrics for an area over a period."""

from __future__ import annotations

import graphene
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from graphene_django import DjangoConnectionField

from community.models import Area
from community.permissions import Action, scope_paths, scope_q
from volunteers import access
from volunteers.models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    ACTIVE_TASK_STATUSES,
    Offer,
    OfferStatus,
    Task,
    TaskAssignment,
)
from volunteers.services import area_dispatch_metrics, dispatch_parameters

from ..core.errors import PermissionDenied
from ..core.lookup import get_node_or_error
from ..core.permissions import current_user
from ..core.types import decode_id
from .task_types import (
    AreaDispatchMetricsType,
    DispatchParametersType,
    DrillFilterEnum,
    OfferStatusEnum,
    OfferType,
    TaskAssignmentType,
    TaskPriorityEnum,
    TaskStatusEnum,
    TaskType,
)
from .types import plain


def _staff_area(info, area_id: str) -> Area:
    user = current_user(info)
    area = get_node_or_error(Area, area_id, "area_id")
    if not access.can_manage_task(user, area):
        raise PermissionDenied()
    return area


class TaskQueries(graphene.ObjectType):
    tasks = DjangoConnectionField(
        TaskType,
        area_id=graphene.ID(description="Only this area's subtree (default: all your areas)."),
        statuses=graphene.List(graphene.NonNull(TaskStatusEnum)),
        active_only=graphene.Boolean(description="Not DONE or CANCELLED."),
        priority=TaskPriorityEnum(),
        is_drill=graphene.Boolean(description="Only drills (true) or only real tasks (false)."),
        description="Staff: the task board of your areas, most urgent first, then newest.",
    )
    task = graphene.Field(TaskType, id=graphene.ID(required=True), description="A task you manage, were offered or are on.")
    my_offers = DjangoConnectionField(
        OfferType,
        statuses=graphene.List(graphene.NonNull(OfferStatusEnum)),
        pending_only=graphene.Boolean(description="Only offers you can still answer."),
        description="Offers made to you, newest first.",
    )
    my_task_assignments = DjangoConnectionField(
        TaskAssignmentType,
        active_only=graphene.Boolean(description="Only places you still hold."),
        description="Tasks you hold or held a place on, newest first.",
    )
    dispatch_parameters = graphene.Field(
        DispatchParametersType, area_id=graphene.ID(required=True), priority=TaskPriorityEnum(required=True),
        description="Staff: answer time, wave factor, radius and ranking band in force in an area.",
    )
    dispatch_metrics = graphene.Field(
        AreaDispatchMetricsType,
        area_id=graphene.ID(required=True),
        from_=graphene.Date(name="from", description="Default: 29 days before `to`."),
        to=graphene.Date(description="Default: today (Asia/Shanghai)."),
        drills=DrillFilterEnum(default_value="EXCLUDE"),
        description="Staff: how dispatch went for tasks created in an area's subtree over a period (at most 366 days).",
    )

    def resolve_tasks(root, info, area_id=None, statuses=None, active_only=None, priority=None, is_drill=None, **kwargs):
        user = current_user(info)
        paths = scope_paths(user, Action.MANAGE_TASKS)
        if paths is not None and not paths:
            raise PermissionDenied()
        qs = Task.objects.all() if paths is None else Task.objects.filter(access_q(user))
        if area_id is not None:
            qs = qs.filter(area__path__startswith=_staff_area(info, area_id).path)
        if statuses:
            qs = qs.filter(status__in=[plain(s) for s in statuses])
        if active_only:
            qs = qs.filter(status__in=ACTIVE_TASK_STATUSES)
        if priority is not None:
            qs = qs.filter(priority=plain(priority))
        if is_drill is not None:
            qs = qs.filter(is_drill=is_drill)
        return qs.order_by(priority_order(), "-created_at", "-id")

    def resolve_task(root, info, id):
        current_user(info)

        try:
            pk = decode_id(id, "Task", "id")
        except Exception:  # noqa: BLE001 - a malformed ID is simply not a task you can see
            return None
        return TaskType.get_queryset(Task.objects.filter(pk=pk), info).first()

    def resolve_my_offers(root, info, statuses=None, pending_only=None, **kwargs):
        user = current_user(info)
        qs = Offer.objects.filter(user=user)
        if statuses:
            qs = qs.filter(status__in=[plain(s) for s in statuses])
        if pending_only:
            qs = qs.filter(status=OfferStatus.PENDING, expires_at__gt=timezone.now())
        return qs.order_by("-offered_at", "-id")

    def resolve_my_task_assignments(root, info, active_only=None, **kwargs):
        user = current_user(info)
        qs = TaskAssignment.objects.filter(user=user)
        if active_only:
            qs = qs.filter(status__in=ACTIVE_ASSIGNMENT_STATUSES)
        return qs.order_by("-assigned_at", "-id")

    def resolve_dispatch_parameters(root, info, area_id, priority):
        area = _staff_area(info, area_id)
        p = dispatch_parameters(area, plain(priority))
        return DispatchParametersType(
            priority=p.priority, mode=str(p.mode), answer_seconds=p.answer_seconds, wave_factor=p.wave_factor,
            radius_start_m=p.radius_start_m, radius_step_m=p.radius_step_m, radius_max_m=p.radius_max_m,
            ranking_band_m=p.ranking_band_m, overridden=list(p.overridden),
            pool_area=Area.objects.filter(pk=p.pool_area_id).first() if p.pool_area_id is not None else None,
        )

    def resolve_dispatch_metrics(root, info, area_id, from_=None, to=None, drills="EXCLUDE"):
        area = _staff_area(info, area_id)
        return AreaDispatchMetricsType.build(area_dispatch_metrics(area, from_, to, plain(drills)))


def access_q(user):
    return scope_q(user, Action.MANAGE_TASKS, "area__path")


def priority_order():
    """LIFE_SAFETY, URGENT, ROUTINE: the board shows the most urgent first."""

    return Case(
        When(priority="LIFE_SAFETY", then=Value(0)), When(priority="URGENT", then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )
