"""Closing many tasks at once: what a wind-down left running, or any open tasks of an area."""

from __future__ import annotations

import graphene
from graphql_relay import to_global_id

from community.models import Area
from community.permissions import Action, scope_q
from emergency.models import PlanRun, WindDown
from emergency.winddown import tasks_for_closing
from volunteers.services import close_tasks

from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import require
from ...core.types import plain
from ...volunteers.task_types import TaskPriorityEnum, TaskSourceEnum, TaskStatusEnum


class CloseTasksFilter(graphene.InputObjectType):
    plan_run_id = graphene.ID(description="Tasks this run created (its descendants' runs and safety checks included).")
    wind_down_id = graphene.ID(description="Tasks of the footing a wind-down ended (e.g. what it left running).")
    source = TaskSourceEnum()
    priorities = graphene.List(graphene.NonNull(TaskPriorityEnum))
    statuses = graphene.List(graphene.NonNull(TaskStatusEnum), description="Open statuses only; closed tasks never match.")
    is_drill = graphene.Boolean()


class CloseTasks(BaseMutation):
    """Staff with MANAGE_TASKS over the area: close the open tasks of its subtree that match
    every filter given, oldest first, at most `limit` per call (`remaining` says how many are
    left). A task somebody holds is closed (those on site completed, their hours recorded, the
    others released); one nobody holds is cancelled with `reason`. dryRun counts and changes
    nothing. A repeat finds nothing left to close; send an idempotency key all the same."""

    dry_run = graphene.Boolean(required=True)
    matched = graphene.Int(required=True, description="Open tasks matching, before this call.")
    closed = graphene.Int(required=True, description="Closed (somebody held them); dryRun: would be.")
    cancelled = graphene.Int(required=True, description="Cancelled (nobody held them); dryRun: would be.")
    skipped = graphene.Int(required=True, description="Closed by someone else meanwhile.")
    remaining = graphene.Int(required=True, description="Matching tasks beyond `limit`, still open.")
    task_ids = graphene.List(graphene.NonNull(graphene.ID), required=True, description="The tasks this call settled.")

    class Arguments:
        area_id = graphene.ID(required=True)
        filter = CloseTasksFilter(default_value={})
        reason = graphene.String(default_value="", description="Why (shown on cancelled tasks' timelines).")
        dry_run = graphene.Boolean(default_value=False)
        limit = graphene.Int(default_value=200, description="At most 500.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, filter=None, reason="", dry_run=False, limit=200):
        area = get_node_or_error(Area, area_id, "area_id")
        user = require(info, Action.MANAGE_TASKS, area)
        given = dict(filter or {})
        run = get_node_or_none(PlanRun.objects.filter(scope_q(user, Action.VIEW_AREA, "area__path")),
                               given.get("plan_run_id"), "filter.plan_run_id")
        wind_down = get_node_or_none(WindDown.objects.filter(scope_q(user, Action.VIEW_AREA, "area__path")),
                                     given.get("wind_down_id"), "filter.wind_down_id")
        tasks = tasks_for_closing(
            area, run=run, wind_down=wind_down, source=plain(given.get("source")), priorities=plain(given.get("priorities")),
            statuses=plain(given.get("statuses")), is_drill=given.get("is_drill"),
        ).filter(scope_q(user, Action.MANAGE_TASKS, "area__path"))
        result = close_tasks(tasks, by=user, reason=reason, dry_run=dry_run, limit=limit)
        return cls(errors=[], dry_run=dry_run, matched=result.matched, closed=result.closed, cancelled=result.cancelled,
                   skipped=result.skipped, remaining=result.remaining,
                   task_ids=[to_global_id("Task", pk) for pk in result.task_ids])
