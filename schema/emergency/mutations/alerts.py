"""Alerts: issue, update and cancel (CAP messages)."""

from __future__ import annotations

import graphene

from community.models import Area
from community.permissions import Action
from emergency.alerts import cancel_alert, issue_alert, preview_alert, update_alert
from emergency.cap import alert_to_cap
from emergency.models import Alert

from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import require
from ...core.types import plain
from ..types import (
    AlertType,
    CapCategoryEnum,
    CapCertaintyEnum,
    CapResponseTypeEnum,
    CapSeverityEnum,
    CapUrgencyEnum,
)


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
    return {k: plain(v) for k, v in dict(value).items() if v is not None or k in ("onset", "expires")}


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
        area = get_node_or_error(Area, area_id, "area_id")
        user = require(info, Action.ISSUE_ALERTS, area)
        return cls(errors=[], alert=issue_alert(area, _alert_data(input), by=user, is_drill=is_drill))


class UpdateAlert(BaseMutation):
    """A new CAP Update message replacing the alert (it is sent to residents again). It
    replaces the text of every language: a Chinese text changed without its English one drops
    the English (the update goes out in Chinese) rather than keep saying the old thing."""

    alert = graphene.Field(AlertType)

    class Arguments:
        alert_id = graphene.ID(required=True)
        changes = AlertChangesInput(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, alert_id, changes):
        alert = get_node_or_error(Alert.objects.select_related("area"), alert_id, "alert_id")
        user = require(info, Action.ISSUE_ALERTS, alert.area)
        data = {k: v for k, v in _alert_data(changes).items() if v is not None}
        return cls(errors=[], alert=update_alert(alert, data, by=user))


class CancelAlert(BaseMutation):
    """A CAP Cancel message: residents who were alerted are told it is over. Its headline and
    description are an all-clear in every language the alert had — your text, or the
    template ("暴雨预警解除" / "All clear: alert lifted") — never the warning's own words."""

    alert = graphene.Field(AlertType)

    class Arguments:
        alert_id = graphene.ID(required=True)
        note = graphene.String(default_value="", description="What to do now (instruction), Chinese.")
        headline = graphene.String(default_value="", description="Default: 〈event〉预警解除.")
        description = graphene.String(default_value="")
        headline_en = graphene.String(default_value="", description="English is sent when the alert had it or you give it.")
        description_en = graphene.String(default_value="")
        note_en = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, alert_id, note="", headline="", description="", headline_en="",
                         description_en="", note_en=""):
        alert = get_node_or_error(Alert.objects.select_related("area"), alert_id, "alert_id")
        user = require(info, Action.ISSUE_ALERTS, alert.area)
        cancelled = cancel_alert(alert, by=user, note=note, headline=headline, description=description,
                                 headline_en=headline_en, description_en=description_en, note_en=note_en)
        return cls(errors=[], alert=cancelled)




class PreviewAlert(BaseMutation):
    """The CAP 1.2 document issueAlert would send with these arguments, checked the same way
    (the same errors) — and nothing is written or sent. Staff with ISSUE_ALERTS. A mutation
    so that it takes the same input and answers errors as data, like issueAlert."""

    cap_xml = graphene.String(description="The CAP document (identifier and times are those of this preview).")

    class Arguments:
        area_id = graphene.ID(required=True)
        input = AlertInput(required=True)
        is_drill = graphene.Boolean(default_value=False)

    @classmethod
    def perform_mutation(cls, root, info, area_id, input, is_drill=False):
        area = get_node_or_error(Area, area_id, "area_id")
        require(info, Action.ISSUE_ALERTS, area)
        alert = preview_alert(area, _alert_data(input), is_drill=is_drill)
        return cls(errors=[], cap_xml=alert_to_cap(alert).decode("utf-8"))
