"""Response plans: a new version of an area's plan for a mode."""

from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from community.models import Area
from community.permissions import Action
from emergency.plans import save_plan_version

from ...community.types import ModeEnum
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import require
from ...core.types import plain
from ..plan_params import params_in
from ..types import (
    PlanActionEnum,
    ResponsePlanType,
)


class PlanActionInput(graphene.InputObjectType):
    type = PlanActionEnum(required=True)
    params = GenericScalar(required=True, description="See mobile_api_docs/emergency.md for each action's params "
                                                      "(camelCase keys; snake_case is accepted too).")


class SaveResponsePlan(BaseMutation):
    """Write the next version of an area's plan for a mode (old versions never change).
    Staff with MANAGE_PLANS over the area. isEnabled false withdraws the plan. Every problem
    of every action comes back at once, each on its camelCase path
    (actions.2.params.welfareAfterMinutes); nothing is saved then."""

    plan = graphene.Field(ResponsePlanType)

    class Arguments:
        area_id = graphene.ID(required=True)
        mode = ModeEnum(required=True)
        name = graphene.String(required=True)
        description = graphene.String(default_value="")
        actions = graphene.List(graphene.NonNull(PlanActionInput), required=True)
        is_enabled = graphene.Boolean(default_value=True)
        change_note = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, mode, name, actions, description="", is_enabled=True, change_note=""):
        area = get_node_or_error(Area, area_id, "area_id")
        user = require(info, Action.MANAGE_PLANS, area)
        plain_actions = [{"type": plain(a.get("type")), "params": params_in(a.get("params"))} for a in actions]
        plan = save_plan_version(area, plain(mode), name=name, actions=plain_actions, by=user, description=description,
                                 is_enabled=is_enabled, change_note=change_note)
        return cls(errors=[], plan=plan)


