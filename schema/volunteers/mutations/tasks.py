"""Staff mutations on tasks (MANAGE_TASKS over the task's area): create, create from a
report, edit (with expectedVersion), headcount, cancel, close, start dispatch, offer to a
named volunteer, add and remove people. Each change lands on the task's timeline and is
pushed to taskUpdated and tasksInArea."""

from __future__ import annotations

import graphene

from community.models import Area, ResidentReport
from volunteers import access
from volunteers.models import Task, TaskAssignment, Volunteer
from volunteers.services import (
    TaskChanges,
    TaskSpec,
    add_person,
    cancel_task,
    close_task,
    create_task,
    create_task_from_report,
    edit_task,
    offer_task_to,
    remove_person,
    set_task_headcount,
    start_dispatch,
)

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import LocationInput
from ..inputs import optional_point
from ..task_types import OfferType, TaskAssignmentType, TaskPriorityEnum, TaskType
from ..types import plain


class CreateTaskInput(graphene.InputObjectType):
    area_id = graphene.ID(required=True, description="A grid (or a community).")
    title = graphene.String(required=True, description="1-100 characters. Sent by SMS: no names or addresses.")
    description = graphene.String(default_value="")
    address = graphene.String(default_value="", description="Shown only to staff and the people on the task.")
    location = LocationInput(description="Default: the area's centre.")
    required_skills = graphene.List(graphene.NonNull(graphene.String), description="Skill codes; every one is needed.")
    headcount = graphene.Int(default_value=1, description="1-100 people.")
    priority = TaskPriorityEnum(default_value="ROUTINE")
    starts_at = graphene.DateTime()
    deadline = graphene.DateTime()
    checkin_radius_m = graphene.Int(description="How close to the place a check-in counts (20-5000 m, default 300).")
    is_drill = graphene.Boolean(default_value=False, description="A practice: every message is marked as a drill.")
    auto_dispatch = graphene.Boolean(default_value=True, description="false: no automatic offers; offer by hand.")
    pool_area_id = graphene.ID(description="Mutual aid: offer it to volunteers serving anywhere in this area (the task's "
                                           "area or one that holds it, which you must manage). Default: the task's area.")


class TaskChangesInput(graphene.InputObjectType):
    """Only the fields given change."""

    title = graphene.String()
    description = graphene.String()
    address = graphene.String()
    location = LocationInput()
    required_skills = graphene.List(graphene.NonNull(graphene.String))
    priority = TaskPriorityEnum()
    starts_at = graphene.DateTime()
    deadline = graphene.DateTime()
    checkin_radius_m = graphene.Int()
    pool_area_id = graphene.ID(description="Widen (or, with the task's own area, narrow) who may be offered it; "
                                           "you must manage this area.")


def pool_area(info, area_id: str | None) -> Area | None:
    """The pool area named, which the caller must manage too: mutual aid across areas only
    through staff whose scope covers both."""
    area = get_node_or_none(Area, area_id, "pool_area_id")
    if area is not None and not access.can_manage_task(current_user(info), area):
        raise PermissionDenied()
    return area


def managed_task(info, task_id: str, field: str = "task_id") -> Task:
    """The task, or PermissionDenied unless the caller manages its area."""
    user = current_user(info)
    task = get_node_or_error(Task.objects.select_related("area"), task_id, field)
    if not access.can_manage_task(user, task):
        raise PermissionDenied()
    return task


def _volunteer(info, volunteer_id: str) -> Volunteer:
    """A volunteer the caller may see as staff (signed up or serving in their subtree); any
    other reads as not found, so IDs can't be used to reach people outside one's area."""
    visible = access.staff_volunteers(current_user(info)).select_related("user")
    return get_node_or_error(visible, volunteer_id, "volunteer_id")


class _TaskPayload(BaseMutation):
    task = graphene.Field(TaskType)

    class Meta:
        abstract = True


class CreateTask(_TaskPayload):
    """Create a task in your grid; dispatch starts as soon as it is saved (unless autoDispatch
    is false). Send an idempotencyKey: a retry returns the first task."""

    class Arguments:
        input = CreateTaskInput(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input):
        user = current_user(info)
        area = get_node_or_error(Area, input["area_id"], "area_id")
        if not access.can_manage_task(user, area):
            raise PermissionDenied()
        task = create_task(TaskSpec(title=input["title"], description=input.get("description") or "", address=input.get("address") or "", location=optional_point(input.get("location"), "location"), required_skills=input.get("required_skills") or [], headcount=input.get("headcount", 1), priority=plain(input.get("priority")) or "ROUTINE", starts_at=input.get("starts_at"), deadline=input.get("deadline"), checkin_radius_m=input.get("checkin_radius_m")), area=area, is_drill=bool(input.get("is_drill")), dispatch=input.get("auto_dispatch", True), created_by=user, pool_area=pool_area(info, input.get("pool_area_id")))
        return cls(errors=[], task=task)


class CreateTaskFromReport(_TaskPayload):
    """Turn a resident's report into a task at its place, in one step (the report becomes
    CONVERTED_TO_TASK; a second conversion gets ALREADY_CONVERTED)."""

    class Arguments:
        report_id = graphene.ID(required=True)
        headcount = graphene.Int(default_value=1)
        priority = TaskPriorityEnum(description="Default: URGENT for a help request, ROUTINE for a hazard.")
        title = graphene.String(description="Default: 居民求助/隐患处置 and the grid's name.")
        required_skills = graphene.List(graphene.NonNull(graphene.String))
        is_drill = graphene.Boolean(default_value=False)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, report_id, headcount=1, priority=None, title=None, required_skills=None, is_drill=False):
        user = current_user(info)
        report = get_node_or_error(ResidentReport.objects.select_related("grid"), report_id, "report_id")
        if not access.can_manage_task(user, report.grid):
            raise PermissionDenied()
        task = create_task_from_report(report, by=user, headcount=headcount, priority=plain(priority), title=title,
                                       required_skills=required_skills or [], is_drill=bool(is_drill))
        return cls(errors=[], task=task)


class UpdateTask(_TaskPayload):
    """Edit a task. expectedVersion is the version you loaded; if someone changed the task
    since, STALE_VERSION and nothing changes: reload and try again."""

    class Arguments:
        task_id = graphene.ID(required=True)
        expected_version = graphene.Int(required=True)
        changes = TaskChangesInput(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, expected_version, changes):
        task = managed_task(info, task_id)
        location = changes.get("location")
        spec = TaskChanges(
            title=changes.get("title"), description=changes.get("description"), address=changes.get("address"),
            location=optional_point(location, "location") if location is not None else None,
            required_skills=changes.get("required_skills"), priority=plain(changes.get("priority")),
            starts_at=changes.get("starts_at"), deadline=changes.get("deadline"),
            checkin_radius_m=changes.get("checkin_radius_m"), pool_area=pool_area(info, changes.get("pool_area_id")),
        )
        return cls(errors=[], task=edit_task(task, spec, by=current_user(info), expected_version=expected_version))


class SetTaskHeadcount(_TaskPayload):
    """More places reopen dispatch; fewer (never below the people on it) may staff the task."""

    class Arguments:
        task_id = graphene.ID(required=True)
        headcount = graphene.Int(required=True)
        expected_version = graphene.Int()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, headcount, expected_version=None):
        task = managed_task(info, task_id)
        return cls(errors=[], task=set_task_headcount(task, headcount, by=current_user(info), expected_version=expected_version))


class CancelTask(_TaskPayload):
    """Pending offers are withdrawn and the people on it released; everyone is told."""

    class Arguments:
        task_id = graphene.ID(required=True)
        reason = graphene.String(default_value="")
        expected_version = graphene.Int()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, reason="", expected_version=None):
        task = managed_task(info, task_id)
        return cls(errors=[], task=cancel_task(task, by=current_user(info), reason=reason, expected_version=expected_version))


class CloseTask(_TaskPayload):
    """The work is done: people on site are completed (hours credited), others released."""

    class Arguments:
        task_id = graphene.ID(required=True)
        expected_version = graphene.Int()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, expected_version=None):
        task = managed_task(info, task_id)
        return cls(errors=[], task=close_task(task, by=current_user(info), expected_version=expected_version))


class StartDispatch(_TaskPayload):
    """Hand the task to the engine (a task created without it, or an UNSTAFFED one: the
    search starts again from the first radius)."""

    class Arguments:
        task_id = graphene.ID(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id):
        task = managed_task(info, task_id)
        return cls(errors=[], task=start_dispatch(task, by=current_user(info)))


class OfferTaskToVolunteer(BaseMutation):
    """Offer the task to a named volunteer (push and SMS like any offer, with its deadline)."""

    offer = graphene.Field(OfferType)
    task = graphene.Field(TaskType)

    class Arguments:
        task_id = graphene.ID(required=True)
        volunteer_id = graphene.ID(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, volunteer_id):
        task = managed_task(info, task_id)
        offer = offer_task_to(task, _volunteer(info, volunteer_id), by=current_user(info))
        return cls(errors=[], offer=offer, task=Task.objects.get(pk=task.pk))


class AddPersonToTask(BaseMutation):
    """Put a volunteer on the task at once (a place is taken; they are told)."""

    assignment = graphene.Field(TaskAssignmentType)
    task = graphene.Field(TaskType)

    class Arguments:
        task_id = graphene.ID(required=True)
        volunteer_id = graphene.ID(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, volunteer_id):
        task = managed_task(info, task_id)
        assignment = add_person(task, _volunteer(info, volunteer_id), by=current_user(info))
        return cls(errors=[], assignment=assignment, task=Task.objects.get(pk=task.pk))


class RemovePersonFromTask(BaseMutation):
    """Take someone off the task; the place reopens (and dispatch resumes)."""

    assignment = graphene.Field(TaskAssignmentType)
    task = graphene.Field(TaskType)

    class Arguments:
        assignment_id = graphene.ID(required=True)
        reason = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, assignment_id, reason=""):
        assignment = get_node_or_error(TaskAssignment.objects.select_related("task__area", "user", "offer"), assignment_id, "assignment_id")
        if not access.can_manage_task(current_user(info), assignment.task):
            raise PermissionDenied()
        assignment = remove_person(assignment, by=current_user(info), reason=reason)
        return cls(errors=[], assignment=assignment, task=Task.objects.get(pk=assignment.task_id))
