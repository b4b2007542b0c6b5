"""Response plans: a new version of an area's plan for a mode."""

from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from community.permissions import Action
from core.errors import field_error
from emergency.error_codes import EmergencyErrorCode as Code
from emergency.plans import save_plan_version

from ...community.mutations.lookup import fetch
from ...community.types import ModeEnum
from ...core.mutations import BaseMutation
from ...core.permissions import require
from ...core.types import decode_id
from ..types import (
    PlanActionEnum,
    ResponsePlanType,
)


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


def _get(model, type_name: str, global_id: str, field: str, *related):
    row = model.objects.select_related(*related).filter(pk=decode_id(global_id, type_name, field)).first()
    if row is None:
        raise field_error(field, f"No such {type_name}.", Code.NOT_FOUND)
    return row


class PlanActionInput(graphene.InputObjectType):
    type = PlanActionEnum(required=True)
    params = GenericScalar(required=True, description="See mobile_api_docs/emergency.md for each action's params.")


class SaveResponsePlan(BaseMutation):
    """Write the next version of an area's plan for a mode (old versions never change).
    Staff with MANAGE_PLANS over the area. isEnabled false withdraws the plan."""

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
        area = fetch("Area", area_id, "area_id")
        user = require(info, Action.MANAGE_PLANS, area)
        plain_actions = [{"type": _plain(a.get("type")), "params": a.get("params")} for a in actions]
        plan = save_plan_version(area, _plain(mode), name=name, actions=plain_actions, by=user, description=description,
                                 is_enabled=is_enabled, change_note=change_note)
        return cls(errors=[], plan=plan)


