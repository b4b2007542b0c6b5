"""Residents register and edit themselves from the app; staff register and edit anyone in
their area (including people with no phone)."""

from __future__ import annotations

import graphene

from community.error_codes import CommunityErrorCode
from community.models import Area, Household, Resident
from community.permissions import Action, can
from community.phone import PhoneCodeError, PhoneCodeSent
from community.privacy import forget_cached_home, may_manage
from community.residents import (
    SELF_FIELDS,
    STAFF_FIELDS,
    check_household_for,
    check_resident_data,
    do_confirm_my_phone,
    do_register_resident,
    do_register_self,
    do_update_my_profile,
    do_update_resident,
    resolve_grid,
)
from core.errors import field_error
from core.masking import mask_phone

from ...core.errors import PermissionDenied, validation_error_to_list
from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.throttle import client_address
from ...core.types import plain
from ..people_types import LEGAL_BASIS_HELP, LegalBasisEnum, ResidentType
from ..types import LanguageEnum


class ResidentProfileInput(graphene.InputObjectType):
    """What a resident may say about themself. Omitted fields stay as they are."""

    display_name = graphene.String()
    phone = graphene.String(description=(
        "SMS number; defaults to the number you logged in with. Any other number is texted a code and becomes "
        "yours with confirmMyPhone. null or \"\" does not remove it: send clearPhone."))
    clear_phone = graphene.Boolean(description=(
        "true removes the profile's SMS number: texts then go to the number the person logs in with, or nowhere "
        "for someone without an account."))
    address = graphene.String()
    languages = graphene.List(graphene.NonNull(graphene.String), description="Spoken languages or dialects.")
    preferred_language = LanguageEnum()
    consent_to_contact = graphene.Boolean()
    prefers_voice = graphene.Boolean(description="Cannot read or answer SMS: safety checks call instead (keypad 1/2).")
    elderly_living_alone = graphene.Boolean()
    disabled = graphene.Boolean()
    reduced_mobility = graphene.Boolean(description="Bedridden or reduced mobility.")
    needs_power_or_medicine = graphene.Boolean(description="Chronic illness needing power (e.g. oxygen) or medicine.")
    pregnant = graphene.Boolean()
    young_children = graphene.Boolean()


class ResidentInput(ResidentProfileInput):
    """Staff: the profile plus the care notes (visible to staff of the area only)."""

    care_notes = graphene.String()


def _data(value, allowed: tuple[str, ...]) -> dict:
    return {k: v for k, v in dict(value or {}).items() if k in allowed or k == "clear_phone"}


class PhoneVerification(graphene.ObjectType):
    """A code was texted to the new number: send it with confirmMyPhone. The same answer
    whoever holds the number."""

    phone = graphene.String(required=True, description="The number, masked.")
    expires_in = graphene.Int(required=True, description="Seconds the code stays valid.")
    resend_after = graphene.Int(required=True, description="Seconds before another code may be asked for.")


def _verification(sent: PhoneCodeSent | None) -> dict | None:
    # A plain dict: idempotent replays store the payload as JSON.
    return None if sent is None else {"phone": mask_phone(sent.phone), "expires_in": sent.expires_in,
                                      "resend_after": sent.resend_after}


def _location(value, field: str = "location"):
    return location_to_wgs84(value, field) if value is not None else None


class RegisterMyResidentProfile(BaseMutation):
    """After phone login: create your resident profile (or claim the one staff made for your
    number). The home location derives your grid."""

    resident = graphene.Field(ResidentType)
    phone_verification = graphene.Field(PhoneVerification, description="Set when another number than yours was given.")

    class Arguments:
        input = ResidentProfileInput(required=True)
        location = LocationInput(required=True, description="Home location; map SDKs may send GCJ02/BD09.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input, location):
        user = current_user(info)
        resident, sent = do_register_self(user, data=_data(input, SELF_FIELDS), location=_location(location),
                                          client_address=client_address(info))
        forget_cached_home(user)
        return cls(errors=[], resident=resident, phone_verification=_verification(sent))


class UpdateMyResidentProfile(BaseMutation):
    """Edit your own profile. A new location re-derives your grid (unless staff fixed it); a
    new address without a location is geocoded in the background."""

    resident = graphene.Field(ResidentType)
    phone_verification = graphene.Field(PhoneVerification, description="Set when another number than yours was given.")

    class Arguments:
        input = ResidentProfileInput()
        location = LocationInput()

    @classmethod
    def perform_mutation(cls, root, info, input=None, location=None):
        user = current_user(info)
        resident = _my_resident(user)
        resident, sent = do_update_my_profile(user, resident, data=_data(input, SELF_FIELDS), location=_location(location),
                                              client_address=client_address(info))
        forget_cached_home(user)
        return cls(errors=[], resident=resident, phone_verification=_verification(sent))


def _my_resident(user) -> Resident:
    resident = Resident.objects.filter(user=user).first()
    if resident is None:
        raise field_error(None, "Register your resident profile first.", CommunityErrorCode.NOT_FOUND)
    return resident


class ConfirmMyPhone(BaseMutation):
    """The code texted to your new number (updateMyResidentProfile): the number becomes your
    SMS number. Wrong codes count; after a few, ask for a new one."""

    checks_secret = True  # one per document (schema.core.validation)
    resident = graphene.Field(ResidentType)

    class Arguments:
        phone = graphene.String(required=True)
        code = graphene.String(required=True)

    class Meta:
        commit_returned_errors = True  # a wrong code's counted attempt must stick

    @classmethod
    def perform_mutation(cls, root, info, phone, code):
        user = current_user(info)
        try:
            resident = do_confirm_my_phone(_my_resident(user), phone=phone, code=code)
        except PhoneCodeError as exc:
            return cls(errors=validation_error_to_list(exc))
        forget_cached_home(user)
        return cls(errors=[], resident=resident)


class RegisterResident(BaseMutation):
    """Staff register a resident of their area (many elderly people have no phone or app).
    Give the grid, or the home location to derive it."""

    resident = graphene.Field(ResidentType)

    class Arguments:
        input = ResidentInput(required=True)
        grid_id = graphene.ID()
        location = LocationInput()
        household_id = graphene.ID()
        legal_basis = LegalBasisEnum(description=LEGAL_BASIS_HELP)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input, grid_id=None, location=None, household_id=None, legal_basis=None):
        user = current_user(info)
        point = _location(location)
        grid, overridden = resolve_grid(get_node_or_none(Area, grid_id, "grid_id"), point)
        if not can(user, Action.MANAGE_PEOPLE, grid):
            raise PermissionDenied()
        household = get_node_or_none(Household.objects.select_related("grid"), household_id, "household_id")
        check_household_for(grid, household)
        resident = do_register_resident(
            by=user, grid=grid, grid_overridden=overridden, data=_data(input, STAFF_FIELDS),
            location=point, household=household, legal_basis=plain(legal_basis),
        )
        return cls(errors=[], resident=resident)


class UpdateResident(BaseMutation):
    """Staff edit a resident of their area: profile, care notes, location, grid override,
    household."""

    resident = graphene.Field(ResidentType)

    class Arguments:
        id = graphene.ID(required=True)
        input = ResidentInput()
        location = LocationInput()
        grid_id = graphene.ID(description="Fix the grid by hand (overrides the derived one).")
        clear_grid_override = graphene.Boolean(default_value=False, description="Derive the grid from the location again.")
        household_id = graphene.ID()
        remove_from_household = graphene.Boolean(default_value=False)
        legal_basis = LegalBasisEnum(description=LEGAL_BASIS_HELP)

    @classmethod
    def perform_mutation(cls, root, info, id, input=None, location=None, grid_id=None,
                         clear_grid_override=False, household_id=None, remove_from_household=False, legal_basis=None):
        user = current_user(info)
        resident = get_node_or_error(Resident.objects.select_related("grid", "household", "user"), id, "id")
        grid = get_node_or_none(Area, grid_id, "grid_id")
        if not may_manage(user, resident) or (grid is not None and not can(user, Action.MANAGE_PEOPLE, grid)):
            raise PermissionDenied()
        values = check_resident_data(_data(input, STAFF_FIELDS), allowed=STAFF_FIELDS, partial=True)
        household: object = False
        if remove_from_household:
            household = None
        elif household_id is not None:
            household = get_node_or_error(Household.objects.select_related("grid"), household_id, "household_id")
            check_household_for(grid or resident.grid, household)
        resident = do_update_resident(
            resident, values=values, location=_location(location), grid=grid,
            clear_grid_override=clear_grid_override, household=household, staff=user, legal_basis=plain(legal_basis),
        )
        return cls(errors=[], resident=resident)
