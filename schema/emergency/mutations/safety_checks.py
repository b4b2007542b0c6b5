"""Safety checks: start, close, and answer for yourself or someone else."""

from __future__ import annotations

import graphene

from community.models import Area, Resident
from community.permissions import Action
from core.errors import CoreErrorCode, field_error
from emergency.error_codes import EmergencyErrorCode as Code
from emergency.models import SafetyCheck, SafetyStatus
from emergency.safety import close_safety_check, start_safety_check
from emergency.safety_answers import answer_rows, answer_safety_check, answering_channel

from ...core.errors import CommonErrorCode, PermissionDenied
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
        # The answer's own client key deduplicates (emergency.safety_answers): one look-up
        # riding on the status row's load instead of a separate idempotency record.
        own_idempotency = True
        throttle = Throttle("safety_answer", per_user=30)

    @classmethod
    def perform_mutation(cls, root, info, safety_check_id, status, resident_id=None, note="", location=None, idempotency_key=""):
        user = current_user(info)
        row = _status_row(user, safety_check_id, resident_id, idempotency_key)
        channel = answering_channel(user, row)
        if channel is None:
            raise PermissionDenied("You may not answer for this person.")
        point = location_to_wgs84(location) if location else None
        result = answer_safety_check(row, plain(status), by=user, channel=channel, note=note, location=point,
                                     client_key=idempotency_key)
        if result.replayed and result.answer.status != plain(status):
            raise field_error("idempotency_key", "This key was already used for a different request.",
                              CommonErrorCode.IDEMPOTENCY_KEY_REUSED)
        return cls(errors=[], status=result.status_row)


def _status_row(user, safety_check_id: str, resident_id, key: str) -> SafetyStatus:
    """The row answered, with its check (one query in the common case: yourself, with a key)."""
    check_pk = decode_id(safety_check_id, "SafetyCheck", "safety_check_id")
    rows = answer_rows(by=user, client_key=key).filter(safety_check_id=check_pk)
    if resident_id:
        row = _one(rows.filter(resident_id=decode_id(resident_id, "Resident", "resident_id")))
    else:  # yourself: the surge of residents answering
        row = _one(rows.filter(resident__user=user))
    if row is not None:
        return row
    if not SafetyCheck.objects.filter(pk=check_pk).exists():
        raise field_error("safety_check_id", "No such SafetyCheck.", CoreErrorCode.NOT_FOUND)
    if not resident_id and not Resident.objects.filter(user=user).exists():
        raise field_error("resident_id", "You have no resident profile; say whom you answer for.", Code.NOT_IN_SAFETY_CHECK)
    raise field_error("resident_id", "This person is not part of this safety check.", Code.NOT_IN_SAFETY_CHECK)


def _one(rows):
    """The row, or None: one per (check, resident), and a resident per user, so no ORDER BY."""
    return next(iter(rows[:1]), None)
