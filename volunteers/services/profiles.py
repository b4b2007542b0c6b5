"""Volunteer profiles: sign-up, editing, the on-duty switch, temporary locations, and the
staff decisions (approve, suspend, reinstate). check_* validates, do_* writes and emits."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from community.models import Area, AreaKind, User
from core.errors import ValidationError

from ..error_codes import VolunteersErrorCode as Code
from ..messages import tell
from ..models import (
    AvailabilityWindow,
    ContactChannel,
    OfferOutcome,
    Skill,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
    local_date,
)
from .errors import Errors

MAX_ON_DUTY = dt.timedelta(hours=24)
MAX_TEMPORARY_LOCATION = dt.timedelta(hours=72)
MAX_SKILLS = 30
MAX_WINDOWS = 28
MAX_LANGUAGES = 10
MAX_SERVICE_AREAS = 10
MAX_CONCURRENT_TASKS = 20
SERVICE_AREA_KINDS = {AreaKind.SUBDISTRICT, AreaKind.COMMUNITY, AreaKind.GRID}
SIGN_UP_AREA_KINDS = {AreaKind.COMMUNITY, AreaKind.GRID}
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class SkillClaim:
    code: str
    certificate_ref: str = ""
    expires_on: dt.date | None = None


@dataclass(frozen=True)
class WindowSpec:
    weekday: int
    start: dt.time
    end: dt.time


@dataclass
class ProfileChanges:
    """What a volunteer sets; None leaves a field as it is. `home` is WGS-84 already."""

    display_name: str | None = None
    skills: list[SkillClaim] | None = None
    home: tuple[float, float] | None = None
    service_areas: list[Area] | None = None
    languages: list[str] | None = None
    max_concurrent_tasks: int | None = None
    contact_channel: str | None = None
    availability: list[WindowSpec] | None = None
    resolved_skills: dict[str, Skill] = field(default_factory=dict, repr=False)


# --- checks -------------------------------------------------------------------------------
def check_profile_changes(changes: ProfileChanges, now: dt.datetime | None = None) -> None:
    """Validate everything at once so the app can show every problem; raises ValidationError."""
    now = now or timezone.now()
    errors = Errors()
    _check_display_name(changes.display_name, errors)
    _check_skills(changes, local_date(now), errors)
    _check_languages(changes.languages, errors)
    if changes.max_concurrent_tasks is not None and not 1 <= changes.max_concurrent_tasks <= MAX_CONCURRENT_TASKS:
        errors.add("max_concurrent_tasks", f"Between 1 and {MAX_CONCURRENT_TASKS}.", Code.INVALID)
    if changes.contact_channel is not None and changes.contact_channel not in ContactChannel.values:
        errors.add("contact_channel", "Use APP, SMS or BOTH.", Code.INVALID)
    _check_availability(changes.availability, errors)
    _check_service_areas(changes.service_areas, errors)
    errors.raise_if_any()


def _check_display_name(name: str | None, errors: Errors) -> None:
    if name is not None and not 1 <= len(name.strip()) <= 100:
        errors.add("display_name", "Between 1 and 100 characters.", Code.INVALID)


def _check_skills(changes: ProfileChanges, today: dt.date, errors: Errors) -> None:
    claims = changes.skills
    if claims is None:
        return
    if len(claims) > MAX_SKILLS:
        errors.add("skills", f"At most {MAX_SKILLS} skills.", Code.INVALID)
        return
    codes = [c.code for c in claims]
    if len(set(codes)) != len(codes):
        errors.add("skills", "Each skill at most once.", Code.INVALID)
    known = {s.code: s for s in Skill.objects.filter(code__in=codes, is_active=True)}
    for claim in claims:
        skill = known.get(claim.code)
        if skill is None:
            errors.add("skills", f"Unknown skill {claim.code!r}.", Code.UNKNOWN_SKILL)
        elif len(claim.certificate_ref) > 100:
            errors.add("skills", "A certificate reference has at most 100 characters.", Code.INVALID)
        elif skill.requires_certificate and not claim.certificate_ref.strip():
            errors.add("skills", f"{skill.name_en} needs a certificate reference.", Code.CERTIFICATE_REQUIRED)
        elif claim.expires_on is not None and claim.expires_on < today:
            errors.add("skills", f"The {skill.name_en} certificate has expired.", Code.CERTIFICATE_EXPIRED)
    changes.resolved_skills = known


def _check_languages(languages: list[str] | None, errors: Errors) -> None:
    if languages is None:
        return
    if len(languages) > MAX_LANGUAGES:
        errors.add("languages", f"At most {MAX_LANGUAGES} languages.", Code.INVALID_LANGUAGE)
    bad = [code for code in languages if not _LANGUAGE_RE.match(code or "")]
    if bad:
        errors.add("languages", f"Not language codes: {', '.join(map(repr, bad[:3]))} (use e.g. zh, en, yue).", Code.INVALID_LANGUAGE)


def _check_availability(windows: list[WindowSpec] | None, errors: Errors) -> None:
    if windows is None:
        return
    if len(windows) > MAX_WINDOWS:
        errors.add("availability", f"At most {MAX_WINDOWS} weekly windows.", Code.INVALID_AVAILABILITY)
        return
    for w in windows:
        if not 0 <= w.weekday <= 6:
            errors.add("availability", "Weekday is 0 (Monday) to 6 (Sunday).", Code.INVALID_AVAILABILITY)
        elif w.start == w.end:
            errors.add("availability", "A window must not start and end at the same time.", Code.INVALID_AVAILABILITY)


def _check_service_areas(areas: list[Area] | None, errors: Errors) -> None:
    if areas is None:
        return
    if not 1 <= len(areas) <= MAX_SERVICE_AREAS:
        errors.add("service_area_ids", f"Between 1 and {MAX_SERVICE_AREAS} areas.", Code.INVALID_AREA)
    elif any(a.kind not in SERVICE_AREA_KINDS for a in areas):
        errors.add("service_area_ids", "Volunteers serve subdistricts, communities or grids.", Code.INVALID_AREA)


def check_sign_up(user: User, area: Area, changes: ProfileChanges, now: dt.datetime | None = None) -> None:
    if Volunteer.objects.filter(user=user).exists():
        raise ValidationError("You are already signed up as a volunteer.", code=Code.ALREADY_VOLUNTEER)
    errors = Errors()
    if area.kind not in SIGN_UP_AREA_KINDS:
        errors.add("area_id", "Sign up with a community or a grid.", Code.INVALID_AREA)
    if changes.home is None:
        errors.add("home_location", "Where you usually are (home or work), so help can be found nearby.", Code.REQUIRED)
    errors.raise_if_any()
    check_profile_changes(changes, now)


# --- writes -------------------------------------------------------------------------------
def do_sign_up_as_volunteer(user: User, area: Area, changes: ProfileChanges, now: dt.datetime | None = None) -> Volunteer:
    """A new, PENDING volunteer; staff of `area` approve them."""
    now = now or timezone.now()
    check_sign_up(user, area, changes, now)
    if changes.service_areas is None:
        changes.service_areas = [area]
    try:
        with transaction.atomic():
            volunteer = Volunteer(user=user, area=area, signed_up_at=now)
            _apply(volunteer, changes)
            volunteer.save()
            _apply_related(volunteer, changes)
    except IntegrityError:
        # The same person signing up twice at once: the OneToOne decides.
        raise ValidationError("You are already signed up as a volunteer.", code=Code.ALREADY_VOLUNTEER)
    return volunteer


def do_update_volunteer_profile(volunteer: Volunteer, changes: ProfileChanges, now: dt.datetime | None = None) -> Volunteer:
    check_profile_changes(changes, now)
    with transaction.atomic():
        _apply(volunteer, changes)
        volunteer.save()
        _apply_related(volunteer, changes)
    return volunteer


def _apply(volunteer: Volunteer, changes: ProfileChanges) -> None:
    if changes.home is not None:
        volunteer.set_location(*changes.home)
    if changes.languages is not None:
        volunteer.languages = list(dict.fromkeys(changes.languages))
    if changes.max_concurrent_tasks is not None:
        volunteer.max_concurrent_tasks = changes.max_concurrent_tasks
    if changes.contact_channel is not None:
        volunteer.contact_channel = changes.contact_channel


def _apply_related(volunteer: Volunteer, changes: ProfileChanges) -> None:
    if changes.display_name is not None:
        User.objects.filter(pk=volunteer.user_id).update(display_name=changes.display_name.strip())
        volunteer.user.display_name = changes.display_name.strip()
    if changes.service_areas is not None:
        volunteer.service_areas.set(changes.service_areas)
    if changes.skills is not None:
        VolunteerSkill.objects.filter(volunteer=volunteer).delete()
        VolunteerSkill.objects.bulk_create(
            VolunteerSkill(
                volunteer=volunteer,
                skill=changes.resolved_skills[c.code],
                certificate_ref=c.certificate_ref.strip(),
                expires_on=c.expires_on,
            )
            for c in changes.skills
        )
    if changes.availability is not None:
        AvailabilityWindow.objects.filter(volunteer=volunteer).delete()
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(volunteer=volunteer, weekday=w.weekday, start=w.start, end=w.end)
            for w in changes.availability
        )


def do_set_on_duty(volunteer: Volunteer, until: dt.datetime | None, now: dt.datetime | None = None) -> Volunteer:
    """"I can help now" until `until` (at most 24 hours ahead); None switches it off. It
    switches itself off at `until`: availability reads `on_duty_until > now`."""
    now = now or timezone.now()
    if until is not None:
        _require_approved(volunteer)
        _check_until(until, now, MAX_ON_DUTY, "until")
    Volunteer.objects.filter(pk=volunteer.pk).update(on_duty_until=until, updated_at=now)
    volunteer.on_duty_until = until
    return volunteer


def do_set_temporary_location(
    volunteer: Volunteer, point: tuple[float, float] | None, until: dt.datetime | None, now: dt.datetime | None = None
) -> Volunteer:
    """Where they are during an emergency (at most 72 hours); None clears it."""
    now = now or timezone.now()
    if point is not None:
        if until is None:
            raise ValidationError({"until": "Say until when you will be there."}, code=Code.REQUIRED)
        _check_until(until, now, MAX_TEMPORARY_LOCATION, "until")
    lat, lng = point if point is not None else (None, None)
    volunteer.set_temporary_location(lat, lng, until if point is not None else None)
    volunteer.save(update_fields=["temp_lat", "temp_lng", "temp_h3_cell", "temp_location_until", "updated_at"])
    return volunteer


def _require_approved(volunteer: Volunteer) -> None:
    if volunteer.status != VolunteerStatus.APPROVED:
        raise ValidationError(
            "Only approved volunteers can go on duty." if volunteer.status == VolunteerStatus.PENDING
            else "Your volunteer account is suspended.",
            code=Code.NOT_APPROVED,
        )


def _check_until(until: dt.datetime, now: dt.datetime, longest: dt.timedelta, field_name: str) -> None:
    if timezone.is_naive(until):
        raise ValidationError({field_name: "Give a time with its timezone offset."}, code=Code.INVALID_TIME)
    if until <= now:
        raise ValidationError({field_name: "Must be in the future."}, code=Code.INVALID_TIME)
    if until > now + longest:
        hours = int(longest.total_seconds() // 3600)
        raise ValidationError({field_name: f"At most {hours} hours from now."}, code=Code.INVALID_TIME)


# --- staff decisions ----------------------------------------------------------------------
# One state machine: (from statuses) -> to status, per decision.
_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((VolunteerStatus.PENDING,), VolunteerStatus.APPROVED),
    "suspend": ((VolunteerStatus.PENDING, VolunteerStatus.APPROVED), VolunteerStatus.SUSPENDED),
    "reinstate": ((VolunteerStatus.SUSPENDED,), VolunteerStatus.APPROVED),
}


def do_decide_volunteer(volunteer: Volunteer, decision: str, *, by: User, reason: str = "", now: dt.datetime | None = None) -> Volunteer:
    """approve / suspend (reason required) / reinstate, as one conditional UPDATE: two staff
    deciding at once cannot both win, and an illegal move changes nothing."""
    now = now or timezone.now()
    sources, target = _TRANSITIONS[decision]
    reason = (reason or "").strip()
    if decision == "suspend" and not reason:
        raise ValidationError({"reason": "Say why the volunteer is suspended."}, code=Code.REQUIRED)
    if len(reason) > 1000:
        raise ValidationError({"reason": "At most 1000 characters."}, code=Code.INVALID)
    with transaction.atomic():
        changed = Volunteer.objects.filter(pk=volunteer.pk, status__in=sources).update(
            status=target, updated_at=now, **_decision_fields(decision, by, reason, now)
        )
        if not changed:
            raise ValidationError(
                f"Cannot {decision} a volunteer who is {volunteer.get_status_display()}.",
                code=Code.INVALID_STATUS_TRANSITION,
            )
        volunteer.refresh_from_db()
        tell(
            volunteer.user, f"volunteer.{_TOLD[decision]}", related=volunteer,
            data={"volunteerId": volunteer.pk, "status": target}, area=volunteer.area.name, reason=reason,
        )
    return volunteer


def _decision_fields(decision: str, by: User, reason: str, now: dt.datetime) -> dict[str, object]:
    if decision == "suspend":
        # A suspended volunteer is off duty at once; dispatch never sees them again.
        return {"suspended_by": by, "suspended_at": now, "suspended_reason": reason, "on_duty_until": None}
    fields: dict[str, object] = {"suspended_reason": "", "suspended_at": None, "suspended_by": None}
    if decision == "approve":
        fields.update(approved_by=by, approved_at=now)
    return fields


_TOLD = {"approve": "approved", "suspend": "suspended", "reinstate": "reinstated"}


# --- the record ---------------------------------------------------------------------------
_OUTCOME_COUNTERS = {
    OfferOutcome.OFFERED: "offered_count",
    OfferOutcome.ACCEPTED: "accepted_count",
    OfferOutcome.DECLINED: "declined_count",
    OfferOutcome.EXPIRED: "expired_count",
    OfferOutcome.COMPLETED: "completed_count",
    OfferOutcome.WITHDRAWN: "withdrawn_count",
}


def record_offer_outcome(volunteer_id: int, outcome: OfferOutcome | str, count: int = 1) -> None:
    """Bump one counter of the volunteer's record atomically (UPDATE ... SET n = n + 1).

    Called by the dispatch engine in the same transaction as the offer's state change, so
    the record moves exactly when the offer does."""
    column = _OUTCOME_COUNTERS[OfferOutcome(outcome)]
    Volunteer.objects.filter(pk=volunteer_id).update(**{column: F(column) + count})
