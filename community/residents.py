"""Resident services: register (self or by staff), update, households, emergency contacts.

check_* validates and raises ValidationError(code=...); do_* owns the transaction. Geocoding
never runs here: a record with an address but no location is saved as PENDING and a task
geocodes it after commit (community.tasks), retried by a periodic sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.enqueue import enqueue_on_commit
from core.errors import field_error, merge_errors
from core.text import clean_text

from .consent import check_sensitive_basis, current_version, keep_basis
from .error_codes import CommunityErrorCode
from .grids import check_place_in_grid, outside_shape, require_grid_for, require_grid_kind
from .models import (
    VULNERABILITY_FLAGS,
    Area,
    ConsentChannel,
    ConsentKind,
    ConsentRecord,
    EmergencyContact,
    GeocodeStatus,
    Household,
    LegalBasis,
    LocationSource,
    Resident,
    User,
)
from .phone import PhoneCodeSent, check_phone_code, request_phone_code, verified_phone
from .tasks import geocode_resident
from .validation import clean_language, clean_languages, clean_phone

MAX_CONTACTS = 5
# Fields a resident may set on their own profile; staff may set these plus the staff ones.
SELF_FIELDS = (
    "display_name", "phone", "address", "languages", "preferred_language",
    "consent_to_contact", "prefers_voice", *VULNERABILITY_FLAGS,
)
STAFF_FIELDS = (*SELF_FIELDS, "care_notes")


def check_resident_data(data: dict[str, Any], *, allowed: tuple[str, ...], partial: bool) -> dict[str, Any]:
    """Validated, normalised values for the keys of `data` (unknown keys are refused)."""
    unknown = set(data) - set(allowed) - {"clear_phone"}
    if unknown:
        raise field_error(sorted(unknown)[0], "You may not set this field.", CommunityErrorCode.INVALID)
    cleaners: dict[str, Callable[[Any], object]] = {
        "display_name": lambda v: clean_text(v, "display_name", 100, required=True),
        "phone": lambda v: clean_phone(v, "phone"),
        "address": lambda v: clean_text(v, "address", 255),
        "care_notes": lambda v: clean_text(v, "care_notes", 2000),
        "languages": lambda v: clean_languages(v),
        "preferred_language": lambda v: clean_language(v),
        "consent_to_contact": bool,
        "prefers_voice": bool,
        **{flag: bool for flag in VULNERABILITY_FLAGS},
    }
    out: dict[str, Any] = {}
    errors: list[ValidationError] = []
    if not partial and "display_name" not in data:
        errors.append(field_error("display_name", "This field is required.", CommunityErrorCode.REQUIRED))
    data = dict(data)
    if data.pop("clear_phone", False):
        if str(data.get("phone") or "").strip():
            errors.append(field_error("phone", "Give a number or clearPhone, not both.", CommunityErrorCode.INVALID))
        data.pop("phone", None)
        out["phone"] = None
    elif partial and "phone" in data and not str(data["phone"] or "").strip():
        # An SMS number is how a person is reached in an emergency: it goes only on purpose.
        errors.append(field_error("phone", "A number is required; to remove it, send clearPhone: true.",
                                  CommunityErrorCode.REQUIRED))
    for key, value in data.items():
        try:
            out[key] = cleaners[key](value)
        except ValidationError as exc:
            errors.append(exc)
    merge_errors(errors)
    return out


def check_phone_free(phone: str | None, *, exclude_pk: int | None = None) -> None:
    if not phone:
        return
    others = Resident.objects.filter(phone=phone)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise field_error("phone", "Another resident is registered with this phone number.", CommunityErrorCode.PHONE_TAKEN)


def resolve_grid(grid: Area | None, location: tuple[float, float] | None, within: Area | None = None) -> tuple[Area, bool]:
    """(grid, overridden): a grid chosen by staff wins (the location, if given, must lie in
    its shape); otherwise derived from the location."""
    if grid is not None:
        return check_place_in_grid(grid, location), True
    if location is None:
        raise field_error("location", "Give the home location or choose a grid.", CommunityErrorCode.REQUIRED)
    return require_grid_for(*location, within=within), False


def _apply(
    resident: Resident,
    values: dict[str, Any],
    location: tuple[float, float] | None,
    source: str,
    rederive_grid: bool = True,
) -> None:
    if "phone" in values:
        check_phone_free(values["phone"], exclude_pk=resident.pk)
    if "consent_to_contact" in values and values["consent_to_contact"] != resident.consent_to_contact:
        resident.consent_recorded_at = timezone.now()
        # The person ticking it in the app gives it: kept in the consent history (APP, the
        # text in force) once the row is saved. Staff record a consent with recordResidentConsent.
        resident._contact_consent_from_app = source == LocationSource.APP  # type: ignore[attr-defined]
    address_changed = "address" in values and values["address"] != resident.address
    for key, value in values.items():
        setattr(resident, key, value)
    if location is not None:
        resident.set_location(*location)
        resident.location_source = source
        resident.geocode_status = GeocodeStatus.NOT_NEEDED
        resident.geocode_attempts = 0
        resident.geocode_error = ""
        if resident.grid_overridden and outside_shape(resident.grid, *location):
            # The home moved out of the grid staff chose: that choice no longer holds.
            resident.grid_overridden = False
            rederive_grid = True
        if rederive_grid and not resident.grid_overridden:
            resident.grid = require_grid_for(*location)
    elif address_changed and resident.address:
        mark_geocode_pending(resident)


def save_unique(resident: Resident) -> None:
    """Save; a concurrent registration that took the phone or the account first is a typed
    error, not a crash (the unique constraints decide the race)."""
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError:
        if resident.user_id and Resident.objects.filter(user_id=resident.user_id).exclude(pk=resident.pk).exists():
            raise field_error(None, "You already have a resident profile.", CommunityErrorCode.ALREADY_REGISTERED)
        raise field_error("phone", "Another resident is registered with this phone number.", CommunityErrorCode.PHONE_TAKEN)


def _geocode_after_commit(resident: Resident) -> None:
    if resident.geocode_status == GeocodeStatus.PENDING:
        enqueue_on_commit(geocode_resident, resident.pk)


def mark_geocode_pending(resident: Resident) -> None:
    resident.geocode_status = GeocodeStatus.PENDING
    resident.geocode_attempts = 0
    resident.geocode_next_attempt_at = timezone.now()
    resident.geocode_error = ""


def do_register_resident(
    *,
    by: User | None,
    grid: Area,
    grid_overridden: bool,
    data: dict[str, Any],
    location: tuple[float, float] | None = None,
    household: Household | None = None,
    user: User | None = None,
    legal_basis: str | None = None,
) -> Resident:
    """Create a resident (staff registration, or self-registration through do_register_self).
    Staff recording sensitive information give its legal basis (community.consent)."""
    values = check_resident_data(data, allowed=STAFF_FIELDS, partial=False)
    basis = check_sensitive_basis(None, values, legal_basis) if user is None else None
    check_phone_free(values.get("phone"))
    check_place_in_grid(grid, location)
    with transaction.atomic():
        resident = Resident(grid=grid, grid_overridden=grid_overridden, household=household, user=user, created_by=by)
        source = LocationSource.APP if user is not None else LocationSource.STAFF
        _apply(resident, values, location, source, rederive_grid=False)
        if location is None and resident.address:
            mark_geocode_pending(resident)
        save_unique(resident)
        _keep_app_consent(resident)
        if by is not None:
            keep_basis(resident, basis, by=by)
        _sync_account(resident)
        _geocode_after_commit(resident)
    return resident


def _keep_app_consent(resident: Resident) -> None:
    if getattr(resident, "_contact_consent_from_app", False):
        ConsentRecord.objects.create(resident=resident, kind=ConsentKind.CONTACT, granted=resident.consent_to_contact,
                                     text_version=current_version(ConsentKind.CONTACT), channel=ConsentChannel.APP,
                                     legal_basis=LegalBasis.CONSENT if resident.consent_to_contact else "",
                                     recorded_by=resident.user, at=resident.consent_recorded_at or timezone.now())
        resident._contact_consent_from_app = False  # type: ignore[attr-defined]


def _sync_account(resident: Resident) -> None:
    """Pushes and SMS follow the person's account: it speaks the language of their profile,
    and carries its name when the account has none yet."""
    if resident.user_id is None:
        return
    User.objects.filter(pk=resident.user_id).update(preferred_language=resident.preferred_language)
    if resident.display_name:
        User.objects.filter(pk=resident.user_id, display_name="").update(display_name=resident.display_name)


def do_register_self(user: User, *, data: dict[str, Any], location: tuple[float, float],
                     client_address: str = "") -> tuple[Resident, PhoneCodeSent | None]:
    """A resident registers from the app after phone login.

    If staff registered them earlier under the phone they logged in with, that record is
    claimed (linked to the account, a conditional UPDATE so two devices cannot both claim it)
    and updated, instead of creating a duplicate. Another number given in the form is texted
    a code and becomes theirs once they confirm it (community/phone.py); until then the
    profile carries the number they logged in with.
    """
    if Resident.objects.filter(user=user).exists():
        raise field_error(None, "You already have a resident profile.", CommunityErrorCode.ALREADY_REGISTERED)
    verified = verified_phone(user)
    values = check_resident_data({"phone": verified, **data}, allowed=SELF_FIELDS, partial=False)
    unproved = values.get("phone") if values.get("phone") != verified else None
    values["phone"] = verified
    grid = require_grid_for(*location)
    # Only the phone the person proved at login may claim a staff-registered record: a phone
    # typed into the form proves nothing (it would let anyone become someone else).
    claimable = Resident.objects.filter(phone=verified, user__isnull=True).first() if verified else None
    with transaction.atomic():
        if claimable is None:
            resident = do_register_resident(by=user, grid=grid, grid_overridden=False, data=values, location=location, user=user)
        else:
            if Resident.objects.filter(pk=claimable.pk, user__isnull=True).update(user=user) != 1:
                raise field_error(None, "This profile was just claimed; sign in again.", CommunityErrorCode.ALREADY_REGISTERED)
            claimable.refresh_from_db()
            resident = do_update_resident(claimable, values=values, location=location, source=LocationSource.APP)
        sent = request_phone_code(resident, unproved, client_address=client_address) if unproved else None
    return resident, sent


def do_update_my_profile(user: User, resident: Resident, *, data: dict[str, Any], location: tuple[float, float] | None,
                         client_address: str = "") -> tuple[Resident, PhoneCodeSent | None]:
    """A resident edits their own profile. A new SMS number other than the one they logged in
    with is not set: it is texted a code (the same answer whoever holds the number)."""
    values = check_resident_data(data, allowed=SELF_FIELDS, partial=True)
    phone = values.get("phone")
    unproved = phone if phone is not None and phone not in (verified_phone(user), _phone_of(resident)) else None
    if unproved is not None or phone == _phone_of(resident):
        values.pop("phone")
    with transaction.atomic():
        resident = do_update_resident(resident, values=values, location=location, source=LocationSource.APP)
        sent = request_phone_code(resident, unproved, client_address=client_address) if unproved else None
    return resident, sent


def do_confirm_my_phone(resident: Resident, *, phone: str, code: str) -> Resident:
    """The number the code was texted to becomes the resident's SMS number. The person proved
    it, so they may learn that another resident is registered with it (PHONE_TAKEN)."""
    proved = check_phone_code(resident, phone, code)
    return do_update_resident(resident, values={"phone": proved}, source=LocationSource.APP)


def _phone_of(resident: Resident) -> str | None:
    return str(resident.phone) if resident.phone else None


def do_update_resident(
    resident: Resident,
    *,
    values: dict[str, Any],
    location: tuple[float, float] | None = None,
    grid: Area | None = None,
    clear_grid_override: bool = False,
    household: Household | None | Literal[False] = False,
    source: str = LocationSource.STAFF,
    staff: User | None = None,
    legal_basis: str | None = None,
) -> Resident:
    """Apply already-validated `values` (see check_resident_data). household=False: unchanged.
    `staff`: the staff member editing, who gives the legal basis of sensitive values the
    resident has not consented to (community.consent)."""
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        basis = check_sensitive_basis(locked, values, legal_basis) if staff is not None else None
        if grid is not None:
            locked.grid, locked.grid_overridden = check_place_in_grid(grid, location or locked.point), True
        elif clear_grid_override:
            locked.grid_overridden = False
            if locked.point is not None:
                locked.grid = require_grid_for(*locked.point)
        _apply(locked, values, location, source)
        if household is not False:
            locked.household = household
        save_unique(locked)
        _keep_app_consent(locked)
        if staff is not None:
            keep_basis(locked, basis, by=staff)
        _sync_account(locked)
        _geocode_after_commit(locked)
    return locked


# --- households ------------------------------------------------------------------------------
def do_create_household(grid: Area, *, label: str, address: str = "") -> Household:
    label = clean_text(label, "label", 100, required=True)
    address = clean_text(address, "address", 255)
    require_grid_kind(grid)
    if Household.objects.filter(grid=grid, label=label).exists():
        raise field_error("label", "This grid already has a household with this label.", CommunityErrorCode.INVALID)
    return Household.objects.create(grid=grid, label=label, address=address)


def check_household_for(resident_grid: Area, household: Household | None) -> None:
    if household is not None and household.grid_id != resident_grid.pk:
        raise field_error("household_id", "The household belongs to another grid.", CommunityErrorCode.INVALID)


# --- emergency contacts --------------------------------------------------------------------
def do_add_emergency_contact(
    resident: Resident,
    *,
    name: str = "",
    phone: str | None = None,
    relation: str = EmergencyContact.Relation.OTHER,
    linked_resident: Resident | None = None,
) -> EmergencyContact:
    relation = getattr(relation, "value", relation)
    if relation not in EmergencyContact.Relation.values:
        raise field_error("relation", "Unknown relation.", CommunityErrorCode.INVALID)
    phone = clean_phone(phone)
    if linked_resident is not None:
        if linked_resident.pk == resident.pk:
            raise field_error("linked_resident_id", "A resident cannot be their own contact.", CommunityErrorCode.INVALID)
        name = name or linked_resident.display_name
    name = clean_text(name, "name", 100, required=True)
    if phone is None and (linked_resident is None or not linked_resident.sms_phone):
        raise field_error("phone", "A contact needs a phone number.", CommunityErrorCode.REQUIRED)
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=resident.pk).first()
        if resident.emergency_contacts.count() >= MAX_CONTACTS:
            raise field_error(None, f"At most {MAX_CONTACTS} emergency contacts.", CommunityErrorCode.INVALID)
        return EmergencyContact.objects.create(
            resident=resident,
            name=name,
            phone=phone,
            relation=relation,
            linked_resident=linked_resident,
            linked_user=linked_resident.user if linked_resident is not None else None,
        )


def do_remove_emergency_contact(contact: EmergencyContact) -> None:
    contact.delete()
