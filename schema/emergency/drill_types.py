"""GraphQL types of drills (the overlay beside an area's real mode) and wind-downs (what a
footing's end closed, and what still runs and why)."""

from __future__ import annotations

import graphene
from graphene_django import DjangoObjectType

from community.models import Area
from community.permissions import Action, can, scope_q
from emergency.models import Drill, WindDown, WindDownCause
from emergency.winddown import (
    HELP_REQUEST,
    IN_PROGRESS,
    STAFFED,
    WELFARE_VISIT,
    active_checks_left,
    still_running,
)

from ..community.types import AreaType, ModeEnum
from ..core.types import CountedConnection, Node
from ..volunteers.task_types import TaskType
from .types import FanoutStatusEnum, PlanRunType

WindDownCauseEnum = graphene.Enum.from_enum(WindDownCause, description="Why a footing ended")
StillRunningWhyEnum = graphene.Enum("StillRunningWhy", [
    (STAFFED, STAFFED), (IN_PROGRESS, IN_PROGRESS), (HELP_REQUEST, HELP_REQUEST), (WELFARE_VISIT, WELFARE_VISIT),
], description="STAFFED / IN_PROGRESS: people hold it, it goes on (nobody new is asked). HELP_REQUEST: a resident "
               "still needs help and nobody has reached them: it keeps dispatching. WELFARE_VISIT (entering RECOVERY): "
               "a vulnerable resident nobody has accounted for yet: the visit keeps dispatching.")

WHY_TEXT = {
    STAFFED: ("已有人承担，继续进行（不再派单）", "people hold it; it goes on (nobody new is asked)"),
    IN_PROGRESS: ("已在现场进行中", "work is under way on site"),
    HELP_REQUEST: ("居民仍需帮助，尚无人到场，继续派单", "a resident still needs help and nobody is there yet; still dispatching"),
    WELFARE_VISIT: ("重点关注居民仍未确认平安，继续上门探访", "a vulnerable resident is still unaccounted for; the visit goes on"),
}


def _staff(info, area: Area) -> bool:
    return can(info.context.user, Action.VIEW_AREA, area)


class DrillType(DjangoObjectType):
    """A drill running (or run) on an area beside its real mode. Everything it creates is
    marked isDrill; the area's real mode, answer times, pools and overrides are untouched."""

    area = graphene.Field(AreaType, required=True)
    mode = graphene.Field(ModeEnum, required=True, description="The drill's mode (NORMAL once it ended).")
    is_active = graphene.Boolean(required=True)
    reason = graphene.String(description="Staff of the area; null for others.")
    started_by_name = graphene.String(description="Staff of the area; null for others.")
    plan_runs = graphene.List(graphene.NonNull(PlanRunType), required=True,
                              description="Staff: the drill's plan runs, oldest first (descendants' included).")
    wind_downs = graphene.List(graphene.NonNull(lambda: WindDownType), required=True,
                               description="Staff: what the drill's recovery and end closed.")

    class Meta:
        model = Drill
        name = "Drill"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "area", "mode", "started_at", "mode_changed_at", "ended_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(scope_q(info.context.user, Action.VIEW_AREA, "area__path")).select_related("area")

    @classmethod
    def get_node(cls, info, id):
        drill = Drill.objects.select_related("area").filter(pk=id).first()
        return drill if drill and _staff(info, drill.area) else None

    def resolve_mode(self, info):
        return str(self.mode)

    def resolve_is_active(self, info):
        return self.is_active

    def resolve_reason(self, info):
        return self.reason if _staff(info, self.area) else None

    def resolve_started_by_name(self, info):
        return str(self.started_by) if self.started_by_id and _staff(info, self.area) else None

    def resolve_plan_runs(self, info):
        return list(self.plan_runs.select_related("area", "plan").order_by("created_at", "id")) if _staff(info, self.area) else []

    def resolve_wind_downs(self, info):
        return list(self.wind_downs.order_by("created_at", "id")) if _staff(info, self.area) else []


class StillRunningTask(graphene.ObjectType):
    task = graphene.Field(TaskType, required=True)
    why = graphene.Field(StillRunningWhyEnum, required=True)
    detail = graphene.String(required=True, description="Why, in the viewer's language.")


class WindDownClosed(graphene.ObjectType):
    messages_superseded = graphene.Int(required=True, description="Queued SMS dropped unsent.")
    offers_withdrawn = graphene.Int(required=True)
    tasks_cancelled = graphene.Int(required=True)
    alerts_cancelled = graphene.Int(required=True, description="Cancelled with an all-clear to those who were told.")
    alerts_expired = graphene.Int(required=True, description="Ended without a message (a drill's, or one nobody received).")
    safety_checks_closed = graphene.Int(required=True)


class WindDownType(DjangoObjectType):
    """What ending a footing (a drill's end, RECOVERY, NORMAL) closed and what still runs.
    Runs in the background: `status` DONE when every step is settled."""

    area = graphene.Field(AreaType, required=True)
    cause = graphene.Field(WindDownCauseEnum, required=True)
    status = graphene.Field(FanoutStatusEnum, required=True)
    drill = graphene.Field(DrillType)
    closed = graphene.Field(WindDownClosed, required=True, description="So far (all of it once status is DONE).")
    still_running = graphene.List(
        graphene.NonNull(StillRunningTask), required=True,
        description="Tasks the wind-down left running that are still open now, with why. Close them with closeTasks.")
    safety_checks_still_active = graphene.Int(required=True, description="0 once DONE.")
    plan_runs = graphene.List(graphene.NonNull(PlanRunType), required=True,
                              description="The runs it wound down.")
    finished_at = graphene.DateTime()

    class Meta:
        model = WindDown
        name = "WindDown"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "area", "is_drill", "cause", "since", "until", "created_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(scope_q(info.context.user, Action.VIEW_AREA, "area__path")).select_related("area", "drill")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(WindDown.objects.filter(pk=id), info).first()

    def resolve_cause(self, info):
        return str(self.cause)

    def resolve_status(self, info):
        return str(self.fanout_status)

    def resolve_finished_at(self, info):
        return self.fanout_finished_at

    def resolve_closed(self, info):
        counts = self.fanout_counts or {}
        return WindDownClosed(**{name: counts.get(name, 0) for name in (
            "messages_superseded", "offers_withdrawn", "tasks_cancelled", "alerts_cancelled", "alerts_expired",
            "safety_checks_closed")})

    def resolve_still_running(self, info):
        english = (getattr(info.context.user, "preferred_language", "") or "").startswith("en")
        return [StillRunningTask(task=task, why=why, detail=WHY_TEXT[why][1 if english else 0])
                for task, why in still_running(self)]

    def resolve_safety_checks_still_active(self, info):
        return active_checks_left(self)

    def resolve_plan_runs(self, info):
        return list(self.runs.select_related("area", "plan").order_by("created_at", "id"))
