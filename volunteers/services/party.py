"""Party-member check-in (党员报到): registering with a community, and staff confirming,
rejecting or ending registrations. One active (pending or confirmed) registration per
person, enforced by a partial unique index so concurrent attempts cannot both succeed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from community.models import Area, AreaKind, User
from core.errors import ValidationError

from ..error_codes import VolunteersErrorCode as Code
from ..messages import tell
from ..models import PartyMemberRegistration, PartyRegistrationStatus
from ..models.party import ACTIVE_PARTY_STATUSES
from .errors import Errors


@dataclass(frozen=True)
class RegistrationSpec:
    name: str
    work_unit: str
    party_branch: str
    home_address: str
    home: tuple[float, float] | None = None  # WGS-84


_LIMITS = {"name": 50, "work_unit": 100, "party_branch": 100, "home_address": 200}


def check_register(user: User, community: Area, spec: RegistrationSpec) -> None:
    errors = Errors()
    if community.kind != AreaKind.COMMUNITY:
        errors.add("community_id", "Register with the community (社区) where you live.", Code.INVALID_AREA)
    for field_name, longest in _LIMITS.items():
        value = getattr(spec, field_name).strip()
        if not value:
            errors.add(field_name, "Required.", Code.REQUIRED)
        elif len(value) > longest:
            errors.add(field_name, f"At most {longest} characters.", Code.INVALID)
    errors.raise_if_any()
    if PartyMemberRegistration.objects.filter(user=user, status__in=ACTIVE_PARTY_STATUSES).exists():
        raise _already_registered()


def _already_registered() -> ValidationError:
    return ValidationError(
        "You already have an active registration; end it before registering elsewhere.",
        code=Code.ALREADY_REGISTERED,
    )


def do_register_party_member(user: User, community: Area, spec: RegistrationSpec, now: dt.datetime | None = None) -> PartyMemberRegistration:
    check_register(user, community, spec)
    registration = PartyMemberRegistration(
        user=user,
        community=community,
        name=spec.name.strip(),
        work_unit=spec.work_unit.strip(),
        party_branch=spec.party_branch.strip(),
        home_address=spec.home_address.strip(),
        created_at=now or timezone.now(),
    )
    if spec.home is not None:
        registration.set_location(*spec.home)
    try:
        with transaction.atomic():
            registration.save()
    except IntegrityError:
        # A concurrent registration of the same person committed first.
        raise _already_registered()
    return registration


# One state machine: decision -> (from statuses, to status).
_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "confirm": ((PartyRegistrationStatus.PENDING,), PartyRegistrationStatus.CONFIRMED),
    "reject": ((PartyRegistrationStatus.PENDING,), PartyRegistrationStatus.REJECTED),
    "end": (ACTIVE_PARTY_STATUSES, PartyRegistrationStatus.ENDED),
}


def do_decide_registration(
    registration: PartyMemberRegistration, decision: str, *, by: User, reason: str = "", now: dt.datetime | None = None
) -> PartyMemberRegistration:
    """confirm / reject (reason required) / end, as one conditional UPDATE."""
    now = now or timezone.now()
    sources, target = _TRANSITIONS[decision]
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ValidationError({"reason": "Say why the registration is rejected."}, code=Code.REQUIRED)
    if len(reason) > 1000:
        raise ValidationError({"reason": "At most 1000 characters."}, code=Code.INVALID)
    with transaction.atomic():
        changed = PartyMemberRegistration.objects.filter(pk=registration.pk, status__in=sources).update(
            status=target, **_decision_fields(decision, by, reason, now)
        )
        if not changed:
            raise ValidationError(
                f"Cannot {decision} a registration that is {registration.get_status_display()}.",
                code=Code.INVALID_STATUS_TRANSITION,
            )
        registration.refresh_from_db()
        if by.pk != registration.user_id:  # no need to tell members what they did themselves
            tell(
                registration.user, f"party.{_TOLD[decision]}", related=registration,
                data={"registrationId": registration.pk, "status": target},
                community=registration.community.name, reason=reason,
            )
    return registration


def _decision_fields(decision: str, by: User, reason: str, now: dt.datetime) -> dict[str, object]:
    if decision == "confirm":
        return {"confirmed_by": by, "confirmed_at": now}
    if decision == "reject":
        return {"decided_by": by, "rejected_at": now, "reason": reason}
    return {"decided_by": by, "ended_at": now, "reason": reason}


_TOLD = {"confirm": "confirmed", "reject": "rejected", "end": "ended"}
