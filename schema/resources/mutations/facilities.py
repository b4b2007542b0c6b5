"""Facilities: staff keep them (MANAGE_RESOURCES over the area) and open or close them; staff
and the volunteers serving a shelter's area check people in and out there, by household."""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError as DjangoValidationError

from community.models import Area, Household, Resident
from core.errors import CoreErrorCode, ValidationError
from resources import access
from resources.facilities import (
    FacilitySpec,
    check_in,
    check_out,
    save_facility,
    set_facility_status,
)
from resources.models import Facility, ShelterStay

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.types import decode_id, plain
from ..types import FacilityKindEnum, FacilityStatusEnum, FacilityType, ShelterStayType


class FacilityInput(graphene.InputObjectType):
    area_id = graphene.ID(required=True, description="A subdistrict, community or grid.")
    code = graphene.String(required=True, description="Stable name plans use (letters, digits, - and _).")
    kind = FacilityKindEnum(required=True)
    name = graphene.String(required=True)
    name_en = graphene.String(default_value="")
    location = LocationInput(required=True, description="The entrance; converted to WGS-84.")
    address = graphene.String(default_value="")
    capacity = graphene.Int(default_value=0, description="People it holds (shelters: at least 1).")
    wheelchair_accessible = graphene.Boolean(default_value=False)
    elderly_care = graphene.Boolean(default_value=False)
    notes = graphene.String(default_value="")


def _facility(info, facility_id: str, *, manage: bool = False, check: bool = False) -> Facility:
    user = current_user(info)
    facility = get_node_or_error(Facility.objects.select_related("area"), facility_id, "facility_id")
    allowed = access.can_manage_facility(user, facility) if manage else access.can_check_in(user, facility) if check else True
    if not allowed:
        raise PermissionDenied()
    return facility


class SaveFacility(BaseMutation):
    """Create a facility (it starts CLOSED), or replace one's details (facilityId)."""

    facility = graphene.Field(FacilityType)

    class Arguments:
        input = FacilityInput(required=True)
        facility_id = graphene.ID()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input, facility_id=None):
        user = current_user(info)
        existing = _facility(info, facility_id, manage=True) if facility_id else None
        area = get_node_or_error(Area, input["area_id"], "area_id")
        if not access.can_manage_facility(user, area):
            raise PermissionDenied()
        try:
            point = location_to_wgs84(input["location"])
        except DjangoValidationError:
            point = (None, None)  # reported by save_facility with every other problem
        spec = FacilitySpec(
            code=input["code"], kind=plain(input["kind"]), name=input["name"], name_en=input.get("name_en") or "",
            location=point, address=input.get("address") or "",
            capacity=input.get("capacity") or 0, wheelchair_accessible=bool(input.get("wheelchair_accessible")),
            elderly_care=bool(input.get("elderly_care")), notes=input.get("notes") or "",
        )
        return cls(errors=[], facility=save_facility(spec, area=area, by=user, facility=existing))


class SetFacilityStatus(BaseMutation):
    """OPEN or CLOSED (FULL follows the occupancy). Closing a shelter with people inside is
    refused with SHELTER_NOT_EMPTY."""

    facility = graphene.Field(FacilityType)

    class Arguments:
        facility_id = graphene.ID(required=True)
        status = FacilityStatusEnum(required=True)
        reason = graphene.String(default_value="")

    @classmethod
    def perform_mutation(cls, root, info, facility_id, status, reason=""):
        facility = _facility(info, facility_id, manage=True)
        return cls(errors=[], facility=set_facility_status(facility, plain(status), by=current_user(info), reason=reason))


class CheckInToShelter(BaseMutation):
    """Check people in together: a household (every member, or residentIds of it), residents,
    and walk-ins by name. All or none: SHELTER_FULL (room for fewer), FACILITY_CLOSED,
    ALREADY_IN_SHELTER."""

    facility = graphene.Field(FacilityType)
    stays = graphene.List(graphene.NonNull(ShelterStayType))

    class Arguments:
        facility_id = graphene.ID(required=True)
        household_id = graphene.ID()
        resident_ids = graphene.List(graphene.NonNull(graphene.ID))
        walk_ins = graphene.List(graphene.NonNull(graphene.String), description="Names of people not on the roster.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, facility_id, household_id=None, resident_ids=None, walk_ins=None):
        facility = _facility(info, facility_id, check=True)
        household = get_node_or_none(Household, household_id, "household_id")
        residents = None
        if resident_ids is not None:
            ids = [decode_id(rid, "Resident", "resident_ids") for rid in resident_ids[:100]]
            residents = list(Resident.objects.filter(pk__in=ids))
            if len(residents) != len(set(ids)):
                raise ValidationError({"resident_ids": "No such resident."}, code=CoreErrorCode.NOT_FOUND)
        stays = check_in(facility, household=household, residents=residents, walk_ins=walk_ins or [], by=current_user(info))
        facility.refresh_from_db()
        return cls(errors=[], facility=facility, stays=stays)


class CheckOutOfShelter(BaseMutation):
    """Check out a household's people still inside, or the given stays."""

    facility = graphene.Field(FacilityType)
    checked_out = graphene.Int()

    class Arguments:
        facility_id = graphene.ID(required=True)
        household_id = graphene.ID()
        stay_ids = graphene.List(graphene.NonNull(graphene.ID))

    @classmethod
    def perform_mutation(cls, root, info, facility_id, household_id=None, stay_ids=None):
        facility = _facility(info, facility_id, check=True)
        household = get_node_or_none(Household, household_id, "household_id")
        stays = None
        if stay_ids is not None:
            stays = list(ShelterStay.objects.filter(pk__in=[decode_id(s, "ShelterStay", "stay_ids") for s in stay_ids[:200]]))
        left = check_out(facility, household=household, stays=stays, by=current_user(info))
        facility.refresh_from_db()
        return cls(errors=[], facility=facility, checked_out=left)
