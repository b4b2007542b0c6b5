"""Safety checks: start, close, and answer for yourself or someone else."""

from __future__ import annotations

import graphene

from community.models import Area, Resident
from community.permissions import Action
from core.errors import field_error
from emergency.error_codes import EmergencyErrorCode as Code
from emergency.models import SafetyCheck, SafetyStatus
from emergency.safety import close_safety_check, start_safety_check
from emergency.safety_answers import answer_safety_check, answering_channel

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user, require
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.throttle import Throttle
from ...core.types import decode_id, plain
from ..types import (
    SafetyCheckType,
    SafetyStateEnum,
    SafetyStatusType,
)


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
        area = get_node_or_error(Area, area_id, "area_id")
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
        check = get_node_or_error(SafetyCheck.objects.select_related("area"), safety_check_id, "safety_check_id")
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
    def perform_mutation(cls, root, info, safety_check_id, status, resident_id=None, note="", location=None, idempotency_key=""):
        user = current_user(info)
        check = get_node_or_error(SafetyCheck, safety_check_id, "safety_check_id")
        row = _status_row(user, check, resident_id)
        channel = answering_channel(user, row)
        if channel is None:
            raise PermissionDenied("You may not answer for this person.")
        point = location_to_wgs84(location) if location else None
        result = answer_safety_check(row, plain(status), by=user, channel=channel, note=note, location=point,
                                     client_key=idempotency_key)
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


