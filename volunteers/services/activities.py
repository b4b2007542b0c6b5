"""Service activities: publishing, signing up (a place claimed with a conditional UPDATE),
checking in at the place (location within the radius, or the on-site code) and out (which
adds the ledger entry)."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from community.geo import distance_m
from community.models import Area, AreaKind, User
from core.errors import ValidationError

from ..access import is_eligible_for_activity
from ..error_codes import VolunteersErrorCode as Code
from ..models import (
    ActivityCheckIn,
    ActivitySignup,
    ActivityStatus,
    CheckInMethod,
    CheckOutMethod,
    ServiceActivity,
    ServiceHoursKind,
    SignupStatus,
)
from ..models.activities import AUTO_CHECKOUT_AFTER
from .errors import Errors
from .hours import hours_credit_for, record_service_hours

MAX_CAPACITY = 10_000
MIN_RADIUS_M, MAX_RADIUS_M = 20, 5_000
MAX_DURATION = dt.timedelta(hours=24)
MAX_LEAD_TIME = dt.timedelta(days=366)
_CODE_RE = re.compile(r"^[A-Za-z0-9]{4,12}$")
# Wrong on-site codes a person may try per activity within the window, against guessing.
MAX_CODE_ATTEMPTS = 5
CODE_ATTEMPT_WINDOW_S = 15 * 60


@dataclass(frozen=True)
class ActivitySpec:
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    location: tuple[float, float] | None  # WGS-84 meeting point
    checkin_radius_m: int = 200
    description: str = ""
    address: str = ""
    checkin_code: str = ""


def check_publish(community: Area, spec: ActivitySpec, now: dt.datetime) -> None:
    errors = Errors()
    if community.kind != AreaKind.COMMUNITY:
        errors.add("community_id", "Activities are published by a community.", Code.INVALID_AREA)
    if not 1 <= len(spec.title.strip()) <= 100:
        errors.add("title", "Between 1 and 100 characters.", Code.INVALID)
    if len(spec.description) > 5000:
        errors.add("description", "At most 5000 characters.", Code.INVALID)
    if len(spec.address) > 200:
        errors.add("address", "At most 200 characters.", Code.INVALID)
    _check_times(spec, now, errors)
    if not 1 <= spec.capacity <= MAX_CAPACITY:
        errors.add("capacity", f"Between 1 and {MAX_CAPACITY} people.", Code.INVALID_CAPACITY)
    if spec.location is None:
        errors.add("location", "Where people meet; check-in is measured from here.", Code.REQUIRED)
    if not MIN_RADIUS_M <= spec.checkin_radius_m <= MAX_RADIUS_M:
        errors.add("checkin_radius_m", f"Between {MIN_RADIUS_M} and {MAX_RADIUS_M} metres.", Code.INVALID_RADIUS)
    if spec.checkin_code and not _CODE_RE.match(spec.checkin_code):
        errors.add("checkin_code", "4 to 12 letters or digits.", Code.INVALID_CHECKIN_CODE)
    errors.raise_if_any()


def _check_times(spec: ActivitySpec, now: dt.datetime, errors: Errors) -> None:
    if timezone.is_naive(spec.starts_at) or timezone.is_naive(spec.ends_at):
        errors.add("starts_at", "Give times with their timezone offset.", Code.INVALID_TIME_RANGE)
    elif spec.ends_at <= spec.starts_at:
        errors.add("ends_at", "Must be after the start.", Code.INVALID_TIME_RANGE)
    elif spec.ends_at - spec.starts_at > MAX_DURATION:
        errors.add("ends_at", "An activity lasts at most 24 hours; publish one per day.", Code.INVALID_TIME_RANGE)
    elif spec.ends_at <= now:
        errors.add("ends_at", "Must be in the future.", Code.INVALID_TIME_RANGE)
    elif spec.starts_at > now + MAX_LEAD_TIME:
        errors.add("starts_at", "At most a year ahead.", Code.INVALID_TIME_RANGE)


def do_publish_service_activity(community: Area, spec: ActivitySpec, *, by: User, now: dt.datetime | None = None) -> ServiceActivity:
    now = now or timezone.now()
    check_publish(community, spec, now)
    activity = ServiceActivity(
        community=community, title=spec.title.strip(), description=spec.description.strip(),
        address=spec.address.strip(), starts_at=spec.starts_at, ends_at=spec.ends_at,
        capacity=spec.capacity, checkin_radius_m=spec.checkin_radius_m,
        checkin_code=spec.checkin_code.upper(), created_by=by, created_at=now,
    )
    if spec.location is None:  # refused by check_publish already
        raise ValidationError({"location": "Where people meet."}, code=Code.REQUIRED)
    activity.set_location(*spec.location)
    activity.save()
    return activity


def do_cancel_service_activity(activity: ServiceActivity, now: dt.datetime | None = None) -> ServiceActivity:
    now = now or timezone.now()
    if activity.ends_at <= now:
        raise ValidationError("The activity is over; it can no longer be cancelled.", code=Code.ACTIVITY_NOT_OPEN)
    changed = ServiceActivity.objects.filter(pk=activity.pk, status=ActivityStatus.PUBLISHED).update(status=ActivityStatus.CANCELLED)
    if not changed:
        raise ValidationError("The activity is already cancelled.", code=Code.ACTIVITY_NOT_OPEN)
    activity.status = ActivityStatus.CANCELLED
    return activity


# --- signing up -----------------------------------------------------------------------------
def do_sign_up_for_activity(activity: ServiceActivity, user: User, now: dt.datetime | None = None) -> ActivitySignup:
    """Claim a place: UPDATE ... SET signed_up_count = signed_up_count + 1 WHERE it is below
    capacity. The row count decides, so the last place goes to exactly one person."""
    now = now or timezone.now()
    if activity.status != ActivityStatus.PUBLISHED or activity.ends_at <= now:
        raise ValidationError("The activity is cancelled or over.", code=Code.ACTIVITY_NOT_OPEN)
    if not is_eligible_for_activity(user, activity):
        raise ValidationError(
            "Confirmed Party members of this community and approved volunteers serving here may sign up.",
            code=Code.NOT_ELIGIBLE,
        )
    with transaction.atomic():
        signup = ActivitySignup.objects.select_for_update().filter(activity=activity, user=user).first()
        if signup is not None and signup.status == SignupStatus.SIGNED_UP:
            raise ValidationError("You are already signed up.", code=Code.ALREADY_SIGNED_UP)
        claimed = ServiceActivity.objects.filter(
            pk=activity.pk, status=ActivityStatus.PUBLISHED, signed_up_count__lt=F("capacity")
        ).update(signed_up_count=F("signed_up_count") + 1)
        if not claimed:
            raise ValidationError("The activity is full.", code=Code.CAPACITY_FULL)
        signup = _save_signup(signup, activity, user, now)
    activity.refresh_from_db(fields=["signed_up_count", "status"])
    return signup


def _save_signup(signup: ActivitySignup | None, activity: ServiceActivity, user: User, now: dt.datetime) -> ActivitySignup:
    if signup is not None:
        signup.status, signup.signed_up_at, signup.cancelled_at = SignupStatus.SIGNED_UP, now, None
        signup.save(update_fields=["status", "signed_up_at", "cancelled_at"])
        return signup
    try:
        with transaction.atomic():
            return ActivitySignup.objects.create(activity=activity, user=user, signed_up_at=now)
    except IntegrityError:
        # The same person signing up twice at once; the outer block rolls the claim back.
        raise ValidationError("You are already signed up.", code=Code.ALREADY_SIGNED_UP)


def do_cancel_activity_signup(activity: ServiceActivity, user: User, now: dt.datetime | None = None) -> ActivitySignup:
    """Give the place back (not after checking in)."""
    now = now or timezone.now()
    with transaction.atomic():
        if ActivityCheckIn.objects.filter(activity=activity, user=user).exists():
            raise ValidationError("You have checked in; check out instead.", code=Code.ALREADY_CHECKED_IN)
        changed = ActivitySignup.objects.filter(activity=activity, user=user, status=SignupStatus.SIGNED_UP).update(
            status=SignupStatus.CANCELLED, cancelled_at=now
        )
        if not changed:
            raise ValidationError("You are not signed up.", code=Code.NOT_SIGNED_UP)
        ServiceActivity.objects.filter(pk=activity.pk, signed_up_count__gt=0).update(signed_up_count=F("signed_up_count") - 1)
    activity.refresh_from_db(fields=["signed_up_count"])
    return ActivitySignup.objects.get(activity=activity, user=user)


# --- checking in and out --------------------------------------------------------------------
def check_checkin(activity: ServiceActivity, user: User, now: dt.datetime) -> None:
    if activity.status != ActivityStatus.PUBLISHED:
        raise ValidationError("The activity is cancelled.", code=Code.ACTIVITY_NOT_OPEN)
    if not activity.checkin_open_at(now):
        raise ValidationError(
            "Check-in opens 30 minutes before the start and closes at the end.", code=Code.CHECKIN_NOT_OPEN
        )
    if not ActivitySignup.objects.filter(activity=activity, user=user, status=SignupStatus.SIGNED_UP).exists():
        raise ValidationError("Sign up for the activity first.", code=Code.NOT_SIGNED_UP)
    if ActivityCheckIn.objects.filter(activity=activity, user=user).exists():
        raise ValidationError("You have already checked in.", code=Code.ALREADY_CHECKED_IN)


def _verify_code(activity: ServiceActivity, user: User, code: str) -> None:
    if not activity.checkin_code:
        raise ValidationError({"code": "This activity has no on-site code; check in with your location."}, code=Code.INVALID_CHECKIN_CODE)
    key = f"volunteers:checkin-code:{activity.pk}:{user.pk}"
    if (cache.get(key) or 0) >= MAX_CODE_ATTEMPTS:
        raise ValidationError({"code": "Too many wrong codes; try again in 15 minutes or use your location."}, code=Code.TOO_MANY_ATTEMPTS)
    if not hmac.compare_digest(code.strip().upper().encode(), activity.checkin_code.encode()):
        cache.add(key, 0, CODE_ATTEMPT_WINDOW_S)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, CODE_ATTEMPT_WINDOW_S)
        raise ValidationError({"code": "That is not the code shown on site."}, code=Code.WRONG_CHECKIN_CODE)


def _outside_radius(activity: ServiceActivity, distance: float) -> ValidationError:
    return ValidationError(
        {"location": f"You are {distance:.0f} m from the activity; check-in works within {activity.checkin_radius_m} m."},
        code=Code.OUTSIDE_RADIUS,
    )


def do_check_in(
    activity: ServiceActivity, user: User, *, point: tuple[float, float] | None = None,
    code: str | None = None, now: dt.datetime | None = None,
) -> ActivityCheckIn:
    """Check in with the phone's position (WGS-84, within the radius) or, failing that, the
    on-site code. At most one check-in per person and activity (unique constraint), so
    replays and races never count twice."""
    now = now or timezone.now()
    check_checkin(activity, user, now)
    distance = distance_m(activity.meeting_point, point) if point is not None else None
    if distance is not None and distance <= activity.checkin_radius_m:
        method = CheckInMethod.LOCATION
    elif code:
        _verify_code(activity, user, code)
        method = CheckInMethod.CODE
    elif distance is not None:
        raise _outside_radius(activity, distance)
    else:
        raise ValidationError("Share your location or enter the code shown on site.", code=Code.CHECKIN_PROOF_REQUIRED)
    try:
        with transaction.atomic():
            return ActivityCheckIn.objects.create(
                activity=activity, user=user, checked_in_at=now, method=method,
                lat=point[0] if point else None, lng=point[1] if point else None, distance_m=distance,
            )
    except IntegrityError:
        raise ValidationError("You have already checked in.", code=Code.ALREADY_CHECKED_IN)


def do_check_out(
    activity: ServiceActivity, user: User, *, now: dt.datetime | None = None, method: str = CheckOutMethod.SELF
) -> ActivityCheckIn:
    """Close the attendance (a conditional UPDATE claims it once) and credit the hours spent
    inside the activity's window to the ledger."""
    now = now or timezone.now()
    checkin = ActivityCheckIn.objects.filter(activity=activity, user=user).first()
    if checkin is None:
        raise ValidationError("You have not checked in.", code=Code.NOT_CHECKED_IN)
    with transaction.atomic():
        claimed = ActivityCheckIn.objects.filter(pk=checkin.pk, checked_out_at__isnull=True).update(
            checked_out_at=now, checkout_method=method
        )
        if not claimed:
            raise ValidationError("You have already checked out.", code=Code.ALREADY_CHECKED_OUT)
        checkin.refresh_from_db()
        hours = hours_credit_for(checkin.checked_in_at, now, activity.starts_at, activity.ends_at)
        if hours > 0:
            reason = activity.title if method == CheckOutMethod.SELF else f"{activity.title}（活动结束后自动签退）"
            entry = record_service_hours(
                user, activity.community, hours, source=activity, kind=ServiceHoursKind.ACTIVITY,
                reason=reason[:500], occurred_at=max(checkin.checked_in_at, activity.starts_at),
            )
            ActivityCheckIn.objects.filter(pk=checkin.pk).update(hours_entry=entry)
            checkin.hours_entry = entry
    return checkin


def close_forgotten_checkouts(now: dt.datetime | None = None, batch: int = 500) -> int:
    """Check out, at the activity's end, everyone who forgot to; returns how many. Safe to
    run repeatedly and concurrently: each check-out is claimed by a conditional UPDATE."""
    now = now or timezone.now()
    open_ones = (
        ActivityCheckIn.objects.filter(checked_out_at__isnull=True, activity__ends_at__lt=now - AUTO_CHECKOUT_AFTER)
        .select_related("activity__community", "user")[:batch]
    )
    closed = 0
    for checkin in open_ones:
        try:
            do_check_out(checkin.activity, checkin.user, now=checkin.activity.ends_at, method=CheckOutMethod.AUTO)
            closed += 1
        except ValidationError:
            continue  # someone else closed it first
    return closed
