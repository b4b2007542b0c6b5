"""Facilities: keeping their details, opening and closing them, checking people in and out
of shelters by household, and finding the nearest open shelter with room.

    save_facility(FacilitySpec(...), area=community, by=staff)
    set_facility_status(facility, "OPEN", by=staff)          # CLOSED refused while occupied
    check_in(shelter, household=h, by=staff)                 # the whole household, or residents=[...]
    check_out(shelter, household=h, by=staff)                # or stays=[...]
    nearest_open_shelters(lat, lng, radius_m=3000, people=3) -> [(facility, metres)]

Occupancy moves by one conditional UPDATE per check-in that also requires the shelter to be
OPEN and to have room for everyone checked in together, so two volunteers at two doors
cannot fill the last places twice: one wins, the other gets SHELTER_FULL and nothing is
written. Every change is a FacilityEvent and, after commit, a facility.updated push.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from community.geo import nearest, validate_coordinates
from community.models import Area, AreaKind, Household, Resident, User
from core.errors import ValidationError
from core.text import clean_text
from notifications import events
from notifications.realtime import publish_on_commit

from .error_codes import ResourcesErrorCode as Code
from .models import (
    Facility,
    FacilityEvent,
    FacilityEventKind,
    FacilityKind,
    FacilityStatus,
    ShelterStay,
)

FACILITY_AREA_KINDS = {AreaKind.SUBDISTRICT, AreaKind.COMMUNITY, AreaKind.GRID}
MAX_CAPACITY = 100_000
MAX_WALK_INS = 50


@dataclass(frozen=True)
class FacilitySpec:
    code: str
    kind: str
    name: str
    location: tuple[float, float]  # WGS-84
    capacity: int = 0
    address: str = ""
    name_en: str = ""
    wheelchair_accessible: bool = False
    elderly_care: bool = False
    notes: str = ""


def _valid_code(code: str) -> bool:
    return 0 < len(code) <= 64 and code.isascii() and all(c.isalnum() or c in "-_" for c in code)


def _valid_capacity(capacity: object, kind: str) -> bool:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= MAX_CAPACITY:
        return False
    return kind != FacilityKind.SHELTER or capacity >= 1


def _texts(spec: FacilitySpec, errors: dict[str, list[DjangoValidationError]]) -> dict[str, str]:
    values = {}
    for field, longest, required in (("name", 100, True), ("name_en", 100, False), ("address", 255, False), ("notes", 500, False)):
        try:
            values[field] = clean_text(getattr(spec, field), field, longest, required=required)
        except DjangoValidationError as exc:
            for name, items in exc.error_dict.items():
                errors.setdefault(name, []).extend(items)
    return values


def _clean_spec(spec: FacilitySpec, area: Area) -> dict[str, Any]:
    """Facility field -> its cleaned value (of that field's type); every problem at once."""
    errors: dict[str, list[DjangoValidationError]] = {}

    def bad(field: str, message: str, code: str) -> None:
        errors.setdefault(field, []).append(DjangoValidationError(message, code=code))

    values: dict[str, Any] = {}
    kind = getattr(spec.kind, "value", spec.kind)
    code = (spec.code or "").strip().lower()
    if kind not in FacilityKind.values:
        bad("kind", f"Use {', '.join(FacilityKind.values)}.", Code.INVALID)
    if area.kind not in FACILITY_AREA_KINDS:
        bad("area_id", "A facility belongs to a subdistrict, community or grid.", Code.INVALID_AREA)
    if not _valid_code(code):
        bad("code", "1 to 64 letters, digits, - or _.", Code.INVALID)
    if not _valid_capacity(spec.capacity, kind):
        bad("capacity", f"A shelter holds 1 to {MAX_CAPACITY} people; other points 0 or more.", Code.INVALID_CAPACITY)
    values.update(_texts(spec, errors))
    try:
        values["location"] = validate_coordinates(*spec.location)
    except (TypeError, ValueError, DjangoValidationError):
        bad("location", "Give (latitude, longitude) in WGS-84.", "invalid_location")
    if errors:
        raise ValidationError(errors)
    values.update(code=code, kind=kind, capacity=spec.capacity, wheelchair_accessible=bool(spec.wheelchair_accessible),
                  elderly_care=bool(spec.elderly_care))
    return values


def save_facility(spec: FacilitySpec, *, area: Area, by: User | None, facility: Facility | None = None) -> Facility:
    """Create a facility (CLOSED), or replace an existing one's details; a shelter's capacity
    never below the people inside it."""
    values = _clean_spec(spec, area)
    lat, lng = values.pop("location")
    with transaction.atomic():
        if facility is None:
            facility = Facility(area=area, created_by=by)
        else:
            facility = Facility.objects.select_for_update().get(pk=facility.pk)
            if facility.kind != values["kind"] and facility.occupancy:
                raise ValidationError({"kind": "People are checked in; check them out first."}, code=Code.SHELTER_NOT_EMPTY)
            if values["capacity"] < facility.occupancy:
                raise ValidationError({"capacity": f"{facility.occupancy} people are inside."}, code=Code.INVALID_CAPACITY)
            facility.area = area
        for name, value in values.items():
            setattr(facility, name, value)
        facility.set_location(lat, lng)
        _refresh_full(facility)
        try:
            with transaction.atomic():
                facility.save()
        except IntegrityError:
            raise ValidationError({"code": "Another facility has this code."}, code=Code.INVALID)
        _publish(facility)
    return facility


def _refresh_full(facility: Facility) -> None:
    """An open shelter with no room left is FULL; a FULL one with room again is OPEN."""
    if facility.status == FacilityStatus.CLOSED or not facility.holds_people:
        return
    facility.status = FacilityStatus.FULL if facility.occupancy >= facility.capacity else FacilityStatus.OPEN


# --- opening and closing ------------------------------------------------------------------
def set_facility_status(facility: Facility, status: str, *, by: User | None, reason: str = "",
                        now: dt.datetime | None = None) -> Facility:
    """OPEN (FULL at once if it has no room) or CLOSED (refused while anyone is checked in).
    Setting the status it already has changes nothing."""
    status = getattr(status, "value", status)
    if status not in (FacilityStatus.OPEN, FacilityStatus.CLOSED):
        raise ValidationError({"status": "Use OPEN or CLOSED (FULL follows the occupancy)."}, code=Code.INVALID)
    reason = clean_text(reason, "reason", 200)
    now = now or timezone.now()
    with transaction.atomic():
        facility = Facility.objects.select_for_update().get(pk=facility.pk)
        is_open = facility.status != FacilityStatus.CLOSED
        if (status == FacilityStatus.OPEN) == is_open:
            return facility
        if status == FacilityStatus.CLOSED and facility.occupancy:
            raise ValidationError({"status": f"{facility.occupancy} people are checked in; check them out first."},
                                  code=Code.SHELTER_NOT_EMPTY)
        facility.status = status
        _refresh_full(facility)
        facility.status_changed_at = now
        facility.save(update_fields=["status", "status_changed_at"])
        kind = FacilityEventKind.OPENED if status == FacilityStatus.OPEN else FacilityEventKind.CLOSED
        FacilityEvent.objects.create(facility=facility, kind=kind, at=now, occupancy=facility.occupancy, actor=by,
                                     reason=reason)
        _publish(facility)
    return facility


# --- check-in and check-out ---------------------------------------------------------------
def _people_of(household: Household | None, residents: Sequence[Resident] | None) -> list[Resident]:
    if residents is None:
        return list(household.members.all().order_by("-is_vulnerable", "pk")) if household is not None else []
    if household is not None and any(r.household_id != household.pk for r in residents):
        raise ValidationError({"resident_ids": "Everyone checked in together belongs to the household given."},
                              code=Code.INVALID)
    return list(dict.fromkeys(residents))


def _check_walk_ins(walk_ins: Sequence[str]) -> list[str]:
    if len(walk_ins) > MAX_WALK_INS:
        raise ValidationError({"walk_ins": f"At most {MAX_WALK_INS} at once."}, code=Code.INVALID)
    return [clean_text(name, "walk_ins", 100, required=True) for name in walk_ins]


def check_in(facility: Facility, *, household: Household | None = None, residents: Sequence[Resident] | None = None,
             walk_ins: Sequence[str] = (), by: User | None, now: dt.datetime | None = None) -> list[ShelterStay]:
    """Check people into a shelter together: a household (all its members unless `residents`
    names some of them), residents, and people not on the roster by name. All or none: past
    capacity, closed, or someone already in a shelter changes nothing."""
    now = now or timezone.now()
    people = _people_of(household, residents)
    names = _check_walk_ins(walk_ins)
    count = len(people) + len(names)
    if not count:
        raise ValidationError({"household_id": "Nobody to check in (the household has no members on the roster)."},
                              code=Code.REQUIRED)
    if not facility.holds_people:
        raise ValidationError({"facility_id": "Only shelters take check-ins."}, code=Code.NOT_A_SHELTER)
    with transaction.atomic():
        stay = ShelterStay.objects.filter(resident__in=people, checked_out_at__isnull=True).select_related("facility").first()
        if stay is not None:
            raise ValidationError({"resident_ids": f"{stay.name} is already checked in at {stay.facility.name}."},
                                  code=Code.ALREADY_IN_SHELTER)
        _claim_places(facility, count, now)
        try:
            with transaction.atomic():
                stays = ShelterStay.objects.bulk_create(
                    [_stay(facility, r.household_id or _pk(household), r, r.display_name, r.is_vulnerable,
                           r.vulnerability_flags, by, now) for r in people]
                    + [_stay(facility, _pk(household), None, name, False, [], by, now) for name in names])
        except IntegrityError:  # checked in elsewhere at this very moment
            raise ValidationError({"resident_ids": "Someone is already checked in at a shelter."}, code=Code.ALREADY_IN_SHELTER)
        _after_change(facility, FacilityEventKind.CHECK_IN, count, by, now)
    return stays


def _pk(household: Household | None) -> int | None:
    return household.pk if household is not None else None


def _stay(facility: Facility, household_id: int | None, resident: Resident | None, name: str, vulnerable: bool,
          flags: list[str], by: User | None, now: dt.datetime) -> ShelterStay:
    return ShelterStay(facility=facility, household_id=household_id, resident=resident, name=name, is_vulnerable=vulnerable,
                       vulnerability_flags=flags, checked_in_at=now, checked_in_by=by)


def _claim_places(facility: Facility, count: int, now: dt.datetime) -> None:
    """The one conditional UPDATE that decides: open, and room for all `count`."""
    claimed = Facility.objects.filter(pk=facility.pk, status=FacilityStatus.OPEN, occupancy__lte=F("capacity") - count) \
        .update(occupancy=F("occupancy") + count)
    if claimed:
        return
    current = Facility.objects.get(pk=facility.pk)
    if current.status == FacilityStatus.CLOSED:
        raise ValidationError({"facility_id": f"{current.name} is closed."}, code=Code.FACILITY_CLOSED)
    raise ValidationError({"facility_id": f"{current.name} has room for {current.room}, not {count}."},
                          code=Code.SHELTER_FULL)


def check_out(facility: Facility, *, household: Household | None = None, stays: Sequence[ShelterStay] | None = None,
              by: User | None, now: dt.datetime | None = None) -> int:
    """Check out a household's people still inside, or the given stays. Returns how many left;
    someone already checked out (a second volunteer, a replayed request) is not counted twice."""
    now = now or timezone.now()
    open_stays = ShelterStay.objects.filter(facility=facility, checked_out_at__isnull=True)
    if stays is not None:
        open_stays = open_stays.filter(pk__in=[s.pk for s in stays])
    elif household is not None:
        open_stays = open_stays.filter(household=household)
    else:
        raise ValidationError({"household_id": "Say whom to check out."}, code=Code.REQUIRED)
    with transaction.atomic():
        ids = list(open_stays.values_list("pk", flat=True))
        left = ShelterStay.objects.filter(pk__in=ids, checked_out_at__isnull=True).update(checked_out_at=now, checked_out_by=by)
        if not left:
            raise ValidationError({"household_id": "Nobody of these is checked in here."}, code=Code.NOT_IN_SHELTER)
        Facility.objects.filter(pk=facility.pk, occupancy__gte=left).update(occupancy=F("occupancy") - left)
        _after_change(facility, FacilityEventKind.CHECK_OUT, -left, by, now)
    return left


def _after_change(facility: Facility, kind: str, delta: int, by: User | None, now: dt.datetime) -> None:
    """Record the new occupancy, move OPEN <-> FULL, and tell watchers after commit."""
    current = Facility.objects.get(pk=facility.pk)
    status = current.status
    _refresh_full(current)
    if current.status != status:
        Facility.objects.filter(pk=current.pk, status=status).update(status=current.status)
    FacilityEvent.objects.create(facility=current, kind=kind, at=now, delta=delta, occupancy=current.occupancy, actor=by)
    facility.occupancy, facility.status = current.occupancy, current.status
    _publish(current)


def _publish(facility: Facility) -> None:
    event = events.make_event(
        events.FACILITY_UPDATED, facilityId=facility.pk, areaId=facility.area_id, status=str(facility.status),
        occupancy=facility.occupancy, capacity=facility.capacity, at=timezone.now().isoformat(),
    )
    area_ids = Area.objects.filter(path__in=facility.area.ancestor_paths()).values_list("pk", flat=True)
    publish_on_commit([events.facility_group(facility.pk), *(events.area_group(pk) for pk in area_ids)], event)


# --- finding one ------------------------------------------------------------------------------
def open_shelters_with_room(people: int = 1) -> Q:
    return Q(kind=FacilityKind.SHELTER, status=FacilityStatus.OPEN, occupancy__lte=F("capacity") - people)


def nearest_open_shelters(lat: float, lng: float, *, radius_m: float, limit: int = 5, people: int = 1,
                          wheelchair: bool = False, elderly_care: bool = False) -> list[tuple[Facility, float]]:
    """Open shelters with room for `people` within radius_m, nearest first (H3 cells, then
    exact geodesic distances), optionally only accessible ones."""
    if isinstance(people, bool) or not isinstance(people, int) or not 1 <= people <= 100:
        raise ValidationError({"people": "Between 1 and 100."}, code=Code.INVALID)
    if not 1 <= limit <= 50:
        raise ValidationError({"limit": "Between 1 and 50."}, code=Code.INVALID)
    shelters = Facility.objects.filter(open_shelters_with_room(people)).select_related("area")
    if wheelchair:
        shelters = shelters.filter(wheelchair_accessible=True)
    if elderly_care:
        shelters = shelters.filter(elderly_care=True)
    return nearest(shelters, lat, lng, radius_m, limit)
