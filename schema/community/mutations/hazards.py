"""Hazard points and their inspections (staff with MANAGE_HAZARDS over the grid)."""

from __future__ import annotations

import graphene

from community.hazards import (
    do_create_hazard_point,
    do_record_inspection,
    do_update_hazard_point,
    resolve_hazard_grid,
)
from community.models import Area, HazardPoint
from community.permissions import Action

from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import current_user, require
from ...core.scalars import LocationInput, location_to_wgs84
from ..hazard_types import (
    HazardKindEnum,
    HazardPointType,
    InspectionResultEnum,
    InspectionType,
    SeverityEnum,
)


class HazardPointInput(graphene.InputObjectType):
    name = graphene.String()
    kind = HazardKindEnum()
    severity = SeverityEnum()
    address = graphene.String()
    description = graphene.String()
    inspection_interval_days = graphene.Int()
    is_active = graphene.Boolean()


class CreateHazardPoint(BaseMutation):
    """Map a hazard point; its grid is derived from the location unless gridId is given."""

    hazard_point = graphene.Field(HazardPointType)

    class Arguments:
        input = HazardPointInput(required=True)
        location = LocationInput(required=True)
        grid_id = graphene.ID()
        first_inspection_due = graphene.DateTime()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input, location, grid_id=None, first_inspection_due=None):
        current_user(info)
        point = location_to_wgs84(location)
        grid = resolve_hazard_grid(get_node_or_none(Area, grid_id, "grid_id"), point)
        user = require(info, Action.MANAGE_HAZARDS, grid)
        hazard = do_create_hazard_point(by=user, grid=grid, location=point, data=dict(input), first_due=first_inspection_due)
        return cls(errors=[], hazard_point=hazard)


class UpdateHazardPoint(BaseMutation):
    hazard_point = graphene.Field(HazardPointType)

    class Arguments:
        id = graphene.ID(required=True)
        input = HazardPointInput()
        location = LocationInput()
        grid_id = graphene.ID()

    @classmethod
    def perform_mutation(cls, root, info, id, input=None, location=None, grid_id=None):
        current_user(info)
        hazard = get_node_or_error(HazardPoint.objects.select_related("grid"), id, "id")
        require(info, Action.MANAGE_HAZARDS, hazard.grid)
        grid = get_node_or_none(Area, grid_id, "grid_id")
        if grid is not None:
            require(info, Action.MANAGE_HAZARDS, grid)
        point = location_to_wgs84(location) if location is not None else None
        hazard = do_update_hazard_point(hazard, data=dict(input or {}), location=point, grid=grid)
        return cls(errors=[], hazard_point=hazard)


class RecordInspection(BaseMutation):
    """Record an inspection; the next one falls due after the point's interval."""

    inspection = graphene.Field(InspectionType)
    hazard_point = graphene.Field(HazardPointType)

    class Arguments:
        hazard_point_id = graphene.ID(required=True)
        result = InspectionResultEnum(required=True)
        findings = graphene.String(default_value="", description="Required unless the result is OK.")
        severity_after = SeverityEnum(description="Re-rate the point's severity.")
        inspected_at = graphene.DateTime(description="Defaults to now.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, hazard_point_id, result, findings="", severity_after=None, inspected_at=None):
        current_user(info)
        hazard = get_node_or_error(HazardPoint.objects.select_related("grid"), hazard_point_id, "hazard_point_id")
        user = require(info, Action.MANAGE_HAZARDS, hazard.grid)
        inspection = do_record_inspection(
            hazard, by=user, result=result, findings=findings, severity_after=severity_after, inspected_at=inspected_at
        )
        return cls(errors=[], inspection=inspection, hazard_point=hazard)
