"""Emergency mutations: response plans, alerts, safety checks and answers, mobilisation.
Each resolves IDs, checks permission, calls one service and shapes the payload."""

from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from community.alerts import cancel_alert, issue_alert, update_alert
from community.error_codes import CommunityErrorCode as Code
from community.mobilise import respond_to_mobilisation
from community.models import Alert, Mobilisation, Resident, SafetyCheck, SafetyStatus
from community.permissions import Action
from community.plans import save_plan_version
from community.safety import close_safety_check, start_safety_check
from community.safety_answers import answer_safety_check, answering_channel
from community.validation import field_error

from ...core.errors import PermissionDenied
from ...core.mutations import BaseMutation
from ...core.permissions import current_user, require
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.throttle import Throttle
from ...core.types import decode_id
from ..emergency_types import (
    AlertType,
    CapCategoryEnum,
    CapCertaintyEnum,
    CapResponseTypeEnum,
    CapSeverityEnum,
    CapUrgencyEnum,
    MobilisationType,
    PlanActionEnum,
    ResponsePlanType,
    SafetyCheckType,
    SafetyStateEnum,
    SafetyStatusType,
)
from ..types import ModeEnum
from .lookup import fetch


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


def _get(model, type_name: str, global_id: str, field: str, *related):
    row = model.objects.select_related(*related).filter(pk=decode_id(global_id, type_name, field)).first()
    if row is None:
        raise field_error(field, f"No such {type_name}.", Code.NOT_FOUND)
    return row


# --- plans --------------------------------------------------------------------------------------
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


# --- alerts -------------------------------------------------------------------------------------
class AlertFields:
    response_types = graphene.List(graphene.NonNull(CapResponseTypeEnum))
    description = graphene.String()
    instruction = graphene.String()
    headline_en = graphene.String()
    description_en = graphene.String()
    instruction_en = graphene.String()
    onset = graphene.DateTime()
    expires = graphene.DateTime()
    send_sms = graphene.Boolean(description="Text residents without the app and vulnerable residents (default true).")


class AlertInput(AlertFields, graphene.InputObjectType):
    categories = graphene.List(graphene.NonNull(CapCategoryEnum), required=True)
    event = graphene.String(required=True)
    urgency = CapUrgencyEnum(required=True)
    severity = CapSeverityEnum(required=True)
    certainty = CapCertaintyEnum(required=True)
    headline = graphene.String(required=True)


class AlertChangesInput(AlertFields, graphene.InputObjectType):
    categories = graphene.List(graphene.NonNull(CapCategoryEnum))
    event = graphene.String()
    urgency = CapUrgencyEnum()
    severity = CapSeverityEnum()
    certainty = CapCertaintyEnum()
    headline = graphene.String()


def _alert_data(value) -> dict:
    return {k: _plain(v) for k, v in dict(value).items() if v is not None or k in ("onset", "expires")}


class IssueAlert(BaseMutation):
    """Issue an alert to the residents of an area (push, and SMS to those without the app or
    vulnerable). Staff with ISSUE_ALERTS. Drill alerts are exported with CAP status Exercise."""

    alert = graphene.Field(AlertType)

    class Arguments:
        area_id = graphene.ID(required=True)
        input = AlertInput(required=True)
        is_drill = graphene.Boolean(default_value=False)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, input, is_drill=False):
        area = fetch("Area", area_id, "area_id")
        user = require(info, Action.ISSUE_ALERTS, area)
        return cls(errors=[], alert=issue_alert(area, _alert_data(input), by=user, is_drill=is_drill))


class UpdateAlert(BaseMutation):
    """A new CAP Update message replacing the alert (it is sent to residents again)."""

    alert = graphene.Field(AlertType)

    class Arguments:
        alert_id = graphene.ID(required=True)
        changes = AlertChangesInput(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, alert_id, changes):
        alert = _get(Alert, "Alert", alert_id, "alert_id", "area")
        user = require(info, Action.ISSUE_ALERTS, alert.area)
        data = {k: v for k, v in _alert_data(changes).items() if v is not None}
        return cls(errors=[], alert=update_alert(alert, data, by=user))


class CancelAlert(BaseMutation):
    """A CAP Cancel message: residents who were alerted are told it is over."""

    alert = graphene.Field(AlertType)

    class Arguments:
        alert_id = graphene.ID(required=True)
        note = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, alert_id, note=""):
        alert = _get(Alert, "Alert", alert_id, "alert_id", "area")
        user = require(info, Action.ISSUE_ALERTS, alert.area)
        return cls(errors=[], alert=cancel_alert(alert, by=user, note=note))


# --- safety checks ------------------------------------------------------------------------------
class StartSafetyCheck(BaseMutation):
    """Ask every resident of an area "are you safe?" (push; SMS to those without the app or
    vulnerable). Vulnerable residents silent after welfareAfterMinutes get a welfare-check task."""

    safety_check = graphene.Field(SafetyCheckType)

    class Arguments:
        area_id = graphene.ID(required=True)
        title = graphene.String(default_value="")
        is_drill = graphene.Boolean(default_value=False)
        welfare_after_minutes = graphene.Int()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, title="", is_drill=False, welfare_after_minutes=None):
        area = fetch("Area", area_id, "area_id")
        user = require(info, Action.ISSUE_ALERTS, area)
        check = start_safety_check(area, by=user, title=title, is_drill=is_drill, welfare_after_minutes=welfare_after_minutes)
        return cls(errors=[], safety_check=check)


class CloseSafetyCheck(BaseMutation):
    """End a safety check: welfare checks stop; late answers are still recorded."""

    safety_check = graphene.Field(SafetyCheckType)

    class Arguments:
        safety_check_id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, safety_check_id):
        check = _get(SafetyCheck, "SafetyCheck", safety_check_id, "safety_check_id", "area")
        user = require(info, Action.ISSUE_ALERTS, check.area)
        return cls(errors=[], safety_check=close_safety_check(check, by=user))


class AnswerSafetyCheck(BaseMutation):
    """Answer a safety check for yourself, or — as a household member, a linked emergency
    contact, a volunteer on their task, or staff of their grid — for someone else (residentId).
    Send an idempotency key: a retried answer is recorded once."""

    status = graphene.Field(SafetyStatusType)

    class Arguments:
        safety_check_id = graphene.ID(required=True)
        status = SafetyStateEnum(required=True, description="SAFE or NEED_HELP")
        resident_id = graphene.ID(description="Whom you answer for; default yourself.")
        note = graphene.String(default_value="")
        location = LocationInput(description="Where the person is now (any datum).")

    class Meta:
        idempotent = True
        throttle = Throttle("safety_answer", per_user=30)

    @classmethod
    def mutate(cls, root, info, **data):
        info.context._linli_safety_key = data.get("idempotency_key") or ""
        return super().mutate(root, info, **data)

    @classmethod
    def perform_mutation(cls, root, info, safety_check_id, status, resident_id=None, note="", location=None):
        user = current_user(info)
        check = _get(SafetyCheck, "SafetyCheck", safety_check_id, "safety_check_id")
        row = _status_row(user, check, resident_id)
        channel = answering_channel(user, row)
        if channel is None:
            raise PermissionDenied("You may not answer for this person.")
        point = location_to_wgs84(location) if location else None
        result = answer_safety_check(row, _plain(status), by=user, channel=channel, note=note, location=point,
                                     client_key=getattr(info.context, "_linli_safety_key", ""))
        return cls(errors=[], status=result.status_row)


def _status_row(user, check: SafetyCheck, resident_id) -> SafetyStatus:
    rows = SafetyStatus.objects.select_related("resident__user", "grid", "safety_check").filter(safety_check=check)
    if resident_id:
        row = rows.filter(resident_id=decode_id(resident_id, "Resident", "resident_id")).first()
    else:  # yourself: one query in the common case (the surge of residents answering)
        row = rows.filter(resident__user=user).first()
        if row is None and not Resident.objects.filter(user=user).exists():
            raise field_error("resident_id", "You have no resident profile; say whom you answer for.", Code.NOT_IN_SAFETY_CHECK)
    if row is None:
        raise field_error("resident_id", "This person is not part of this safety check.", Code.NOT_IN_SAFETY_CHECK)
    return row


class RespondToMobilisation(BaseMutation):
    """Answer a call-in: available (you are put on duty for dispatch) or not."""

    mobilisation = graphene.Field(MobilisationType)

    class Arguments:
        mobilisation_id = graphene.ID(required=True)
        available = graphene.Boolean(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, mobilisation_id, available):
        user = current_user(info)
        mobilisation = _get(Mobilisation, "Mobilisation", mobilisation_id, "mobilisation_id", "area", "user")
        if mobilisation.user_id != user.pk:
            raise PermissionDenied()
        return cls(errors=[], mobilisation=respond_to_mobilisation(mobilisation, available))


class EmergencyMutations(graphene.ObjectType):
    save_response_plan = SaveResponsePlan.Field()
    issue_alert = IssueAlert.Field()
    update_alert = UpdateAlert.Field()
    cancel_alert = CancelAlert.Field()
    start_safety_check = StartSafetyCheck.Field()
    close_safety_check = CloseSafetyCheck.Field()
    answer_safety_check = AnswerSafetyCheck.Field()
    respond_to_mobilisation = RespondToMobilisation.Field()
