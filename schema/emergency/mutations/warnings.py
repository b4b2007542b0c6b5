"""Warnings that come in: commanders decide proposals (SWITCH_MODE over the area); staff who
manage plans there keep the area's sensors and their thresholds."""

from __future__ import annotations

import graphene
from django.db import IntegrityError, transaction
from graphene.types.generic import GenericScalar

from community.models import Area
from community.permissions import Action, can
from core.errors import ValidationError
from core.text import clean_text
from emergency.error_codes import EmergencyErrorCode
from emergency.models import Sensor, SensorKind, WarningProposal, WarningSource, WarningSourceKind
from emergency.warnings.proposals import decide_proposal
from emergency.warnings.sensors import check_thresholds

from ...community.types import ModeEnum
from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user, require
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.types import plain
from ..warning_types import SensorKindEnum, SensorType, WarningProposalType


class DecideWarningProposal(BaseMutation):
    """Accept (the area is switched, to the proposed mode or to `mode`, and its plan runs) or
    decline. Recorded with the time since the warning arrived. Once: PROPOSAL_NOT_PENDING."""

    proposal = graphene.Field(WarningProposalType)

    class Arguments:
        proposal_id = graphene.ID(required=True)
        accept = graphene.Boolean(required=True)
        mode = ModeEnum(description="Accept into another mode than proposed: STANDBY or EMERGENCY.")
        note = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, proposal_id, accept, mode=None, note=""):
        user = current_user(info)
        proposal = get_node_or_error(WarningProposal.objects.select_related("area", "warning"), proposal_id, "proposal_id")
        if not can(user, Action.SWITCH_MODE, proposal.area):
            raise PermissionDenied()
        return cls(errors=[], proposal=decide_proposal(proposal, accept=accept, by=user, mode=plain(mode), note=note))


class SensorInput(graphene.InputObjectType):
    area_id = graphene.ID(required=True)
    source_code = graphene.String(required=True, description="The sensor webhook whose key signs its readings.")
    code = graphene.String(required=True, description="As the readings name it.")
    name = graphene.String(required=True)
    kind = SensorKindEnum(required=True)
    unit = graphene.String(required=True)
    location = LocationInput(required=True)
    radius_m = graphene.Int(default_value=1000, description="The warning's circle around the sensor (100-20000 m).")
    thresholds = GenericScalar(required=True, description='[{"value": 3.5, "severity": "Moderate", "event": "内涝"}]')


class SaveSensor(BaseMutation):
    """Place a sensor (or change one, sensorId) with its thresholds. Staff with MANAGE_PLANS."""

    sensor = graphene.Field(SensorType)

    class Arguments:
        input = SensorInput(required=True)
        sensor_id = graphene.ID()

    @classmethod
    def perform_mutation(cls, root, info, input, sensor_id=None):
        area = get_node_or_error(Area, input["area_id"], "area_id")
        require(info, Action.MANAGE_PLANS, area)
        sensor = get_node_or_error(Sensor.objects.select_related("area"), sensor_id, "sensor_id") if sensor_id else Sensor()
        if sensor.pk is not None and not can(current_user(info), Action.MANAGE_PLANS, sensor.area):
            raise PermissionDenied()
        source = WarningSource.objects.filter(code=input["source_code"], kind=WarningSourceKind.SENSOR_WEBHOOK).first()
        if source is None:
            raise ValidationError({"source_code": "No sensor webhook with this code."}, code=EmergencyErrorCode.NOT_FOUND)
        radius = input.get("radius_m") or 1000
        if not 100 <= radius <= 20_000:
            raise ValidationError({"radius_m": "Between 100 and 20000 metres."}, code=EmergencyErrorCode.INVALID)
        sensor.area, sensor.source, sensor.kind = area, source, plain(input["kind"]) or SensorKind.OTHER
        sensor.code = clean_text(input["code"], "code", 64, required=True)
        sensor.name = clean_text(input["name"], "name", 100, required=True)
        sensor.unit = clean_text(input["unit"], "unit", 16, required=True)
        sensor.radius_m, sensor.thresholds = radius, check_thresholds(input["thresholds"])
        sensor.set_location(*location_to_wgs84(input["location"]))
        try:
            with transaction.atomic():
                sensor.save()
        except IntegrityError:
            raise ValidationError({"code": "Another sensor has this code."}, code=EmergencyErrorCode.INVALID)
        return cls(errors=[], sensor=sensor)
