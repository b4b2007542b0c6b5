"""Volunteers: who can help, with what skills, where and when, and how they have done so far."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Self, TypedDict, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.utils import timezone

from community.geo import (
    MAX_RADIUS_M,
    GeoErrorCode,
    Located,
    cell_of,
    cells_within,
    distance_m,
    validate_coordinates,
)
from community.models import Area
from core.errors import ValidationError
from notifications.consent import is_opted_out
from notifications.models import SmsOptOut

from .time import local, local_date

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Skill(models.Model):
    """The managed list of skills (seeded by migration, edited by administrators)."""

    code = models.SlugField(max_length=48, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=64)
    requires_certificate = models.BooleanField(
        default=False, help_text="Only counts when the volunteer gives a certificate reference."
    )
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    def name_for(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh


class VolunteerStatus(models.TextChoices):
    PENDING = "PENDING", "待审核"
    APPROVED = "APPROVED", "已批准"
    SUSPENDED = "SUSPENDED", "已暂停"


class ContactChannel(models.TextChoices):
    APP = "APP", "App push"
    SMS = "SMS", "SMS"
    BOTH = "BOTH", "App push and SMS"


class SmsUnreachableReason(StrEnum):
    NO_PHONE = "NO_PHONE"
    APP_ONLY = "APP_ONLY"  # the volunteer chose app push only
    OPTED_OUT = "OPTED_OUT"  # the number texted STOP (or the provider reported it unsubscribed)


class OfferOutcome(StrEnum):
    """What happened to one offer of a task; each bumps one counter of the volunteer record."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # no answer before the offer's deadline
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"  # accepted, then dropped out or did not show up


# Reliability = (completed + PRIOR_GOOD) / (completed + expired + withdrawn + PRIOR_GOOD + PRIOR_BAD)
# A Beta(3, 1) prior: a newcomer starts at 0.75 and the figure follows their record as it
# grows. An honest "no" (declined) is not held against anyone; ignoring an offer (expired)
# or dropping a task after accepting it (withdrawn) is.
PRIOR_GOOD = 3.0
PRIOR_BAD = 1.0


def reliability_score(completed: int, expired: int, withdrawn: int) -> float:
    return (completed + PRIOR_GOOD) / (completed + expired + withdrawn + PRIOR_GOOD + PRIOR_BAD)


def valid_skill_q(at: dt.datetime, prefix: str = "") -> Q:
    """VolunteerSkill rows that count at `at`: not expired (the expiry day still counts, in
    Asia/Shanghai), and carrying a certificate reference when the skill requires one."""
    today = local_date(at)
    not_expired = Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gte": today})
    certified = Q(**{f"{prefix}skill__requires_certificate": False}) | ~Q(**{f"{prefix}certificate_ref": ""})
    return not_expired & certified & Q(**{f"{prefix}skill__is_active": True})


def schedule_window_q(at: dt.datetime) -> Q:
    """AvailabilityWindow rows open at `at`. A window whose end is not after its start runs
    overnight (22:00-06:00 on Monday covers Monday evening and Tuesday morning)."""
    here = local(at)
    weekday, now = here.weekday(), here.time().replace(tzinfo=None)
    yesterday = (weekday - 1) % 7
    same_day = Q(weekday=weekday, start__lt=F("end"), start__lte=now, end__gt=now)
    overnight_evening = Q(weekday=weekday, end__lte=F("start"), start__lte=now)
    overnight_morning = Q(weekday=yesterday, end__lte=F("start"), end__gt=now)
    return same_day | overnight_evening | overnight_morning


class OptOut(TypedDict):
    phone_opted_out: bool


class Reliability(TypedDict):
    reliability_value: float


# Generic in the row type, so rows annotated along a chain keep their annotations' types.
_V = TypeVar("_V", bound="Volunteer", covariant=True)


class VolunteerQuerySet(models.QuerySet[_V]):
    def in_pool(self) -> Self:
        """Approved (hence not suspended or pending), with an active account."""
        return self.filter(status=VolunteerStatus.APPROVED, user__is_active=True)

    def serving(self, area: Area) -> Self:
        """Volunteers who signed up in, or serve in, `area` or any area below it."""
        serves = Volunteer.service_areas.through.objects.filter(
            volunteer_id=OuterRef("pk"), area__path__startswith=area.path
        )
        return self.filter(Q(area__path__startswith=area.path) | Q(Exists(serves)))

    def serving_in(self, area: Area) -> Self:
        """Volunteers whose areas (where they signed up, where they serve) overlap `area`'s
        subtree: an area inside it, or one that holds it (a community's volunteer serves
        each of its grids). Dispatch offers a task only to these (volunteers.dispatch.pool)."""
        above = area.ancestor_paths()
        serves = Volunteer.service_areas.through.objects.filter(volunteer_id=OuterRef("pk")).filter(
            Q(area__path__startswith=area.path) | Q(area__path__in=above)
        )
        return self.filter(Q(area__path__startswith=area.path) | Q(area__path__in=above) | Q(Exists(serves)))

    def available_at(self, at: dt.datetime | None = None) -> Self:
        """On duty at `at`, or inside one of their weekly windows. One SQL query."""
        at = at or timezone.now()
        windows = AvailabilityWindow.objects.filter(volunteer=OuterRef("pk")).filter(schedule_window_q(at))
        return self.filter(Q(on_duty_until__gt=at) | Exists(windows))

    def with_valid_skills(self, skill_codes: Iterable[str], at: dt.datetime | None = None) -> Self:
        """Volunteers holding every one of `skill_codes`, each valid at `at`."""
        at = at or timezone.now()
        qs = self
        for code in dict.fromkeys(skill_codes):
            held = VolunteerSkill.objects.filter(volunteer=OuterRef("pk"), skill__code=code).filter(valid_skill_q(at))
            qs = qs.filter(Exists(held))
        return qs

    def temp_location_active_q(self, at: dt.datetime) -> Q:
        return Q(temp_location_until__gt=at, temp_h3_cell__gt="")

    def in_cells(self, cells: list[str], at: dt.datetime | None = None) -> Self:
        """Volunteers whose effective point (temporary while it lasts, else home) lies in
        one of `cells`; the candidate step of a radius search, on indexed columns."""
        at = at or timezone.now()
        temp = self.temp_location_active_q(at)
        return self.filter((temp & Q(temp_h3_cell__in=cells)) | (~temp & Q(h3_cell__in=cells)))

    def sms_reachable(self) -> Self:
        """Has a phone, chose SMS or both, and the number has not opted out."""

        opted_out = SmsOptOut.objects.filter(phone=OuterRef("user__phone"))
        return (
            self.filter(contact_channel__in=[ContactChannel.SMS, ContactChannel.BOTH])
            .exclude(user__phone__isnull=True)
            .exclude(user__phone="")
            .filter(~Exists(opted_out))
        )

    def with_opt_out(self) -> VolunteerQuerySet[WithAnnotations[_V, OptOut]]:
        """Annotate phone_opted_out, read by Volunteer.sms_unreachable_reason."""

        return self.annotate(phone_opted_out=Exists(SmsOptOut.objects.filter(phone=OuterRef("user__phone"))))

    def with_reliability(self) -> VolunteerQuerySet[WithAnnotations[_V, Reliability]]:
        """Annotate `reliability_value` (the same formula as reliability_score) so dispatch
        can order and filter by it in SQL."""
        good = F("completed_count") + Value(PRIOR_GOOD)
        total = F("completed_count") + F("expired_count") + F("withdrawn_count") + Value(PRIOR_GOOD + PRIOR_BAD)
        return self.annotate(reliability_value=ExpressionWrapper(good / total, output_field=models.FloatField()))


class Volunteer(Located):
    """A person who can be mobilised. Located fields hold the home point (WGS-84)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer")
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="signed_up_volunteers",
        help_text="Where they signed up; staff of this area approve and suspend them.",
    )
    service_areas = models.ManyToManyField(Area, related_name="volunteers", blank=True)
    status = models.CharField(max_length=16, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING)
    signed_up_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.TextField(blank=True)
    suspended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suspended_at = models.DateTimeField(null=True, blank=True)

    temp_lat = models.FloatField(null=True, blank=True)
    temp_lng = models.FloatField(null=True, blank=True)
    temp_h3_cell = models.CharField(max_length=16, blank=True, default="", db_index=True)
    temp_location_until = models.DateTimeField(null=True, blank=True)

    languages = models.JSONField(default=list, blank=True, help_text='Language codes, e.g. ["zh", "en", "yue"].')
    max_concurrent_tasks = models.PositiveSmallIntegerField(default=1)
    contact_channel = models.CharField(max_length=8, choices=ContactChannel.choices, default=ContactChannel.BOTH)
    on_duty_until = models.DateTimeField(null=True, blank=True, help_text='"I can help now" until this time.')

    # The record, fed by the dispatch engine (volunteers.dispatch.record, services.record_offer_outcome)
    # in the transaction that moves the offer or the place.
    offered_count = models.PositiveIntegerField(default=0)
    accepted_count = models.PositiveIntegerField(default=0)
    declined_count = models.PositiveIntegerField(default=0)
    expired_count = models.PositiveIntegerField(default=0)
    completed_count = models.PositiveIntegerField(default=0)
    withdrawn_count = models.PositiveIntegerField(default=0)

    updated_at = models.DateTimeField(auto_now=True)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["on_duty_until"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_concurrent_tasks__gte=1) & Q(max_concurrent_tasks__lte=20),
                name="volunteer_max_concurrent_tasks_range",
            ),
        ]

    def __str__(self) -> str:
        return f"volunteer {self.user}"

    # --- where ----------------------------------------------------------------------------
    def has_temporary_location(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        return (
            self.temp_lat is not None and self.temp_lng is not None
            and self.temp_location_until is not None and self.temp_location_until > at
        )

    def effective_point(self, at: dt.datetime | None = None) -> tuple[float, float] | None:
        """Where to look for them at `at`: the temporary location while it lasts, else home."""
        if self.has_temporary_location(at) and self.temp_lat is not None and self.temp_lng is not None:
            return (self.temp_lat, self.temp_lng)
        return self.point

    def search_cell(self, at: dt.datetime | None = None) -> str:
        """The H3 cell of effective_point(at) (the column nearest-searches read)."""
        return self.temp_h3_cell if self.has_temporary_location(at) else self.h3_cell

    def set_temporary_location(self, lat: float | None, lng: float | None, until: dt.datetime | None) -> None:
        if lat is None or lng is None or until is None:
            self.temp_lat = self.temp_lng = self.temp_location_until = None
            self.temp_h3_cell = ""
            return
        self.temp_lat, self.temp_lng = validate_coordinates(lat, lng)
        self.temp_h3_cell = cell_of(self.temp_lat, self.temp_lng)
        self.temp_location_until = until

    # --- when -----------------------------------------------------------------------------
    def is_on_duty(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.on_duty_until is not None and self.on_duty_until > at

    def in_schedule(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        return any(w.is_open_at(at) for w in self.windows.all())

    def is_available(self, at: dt.datetime | None = None) -> bool:
        """In the pool and on duty or inside a weekly window (same rule as available_at)."""
        at = at or timezone.now()
        in_pool = self.status == VolunteerStatus.APPROVED and self.user.is_active
        return in_pool and (self.is_on_duty(at) or self.in_schedule(at))

    # --- how to reach ---------------------------------------------------------------------
    def sms_unreachable_reason(self) -> SmsUnreachableReason | None:
        phone = self.user.phone
        if not phone:
            return SmsUnreachableReason.NO_PHONE
        if self.contact_channel == ContactChannel.APP:
            return SmsUnreachableReason.APP_ONLY
        # Lists annotate phone_opted_out (VolunteerQuerySet.with_opt_out) to avoid a query per row.
        opted_out = getattr(self, "phone_opted_out", None)
        if opted_out is None:
            opted_out = is_opted_out(phone)
        if opted_out:
            return SmsUnreachableReason.OPTED_OUT
        return None

    @property
    def is_sms_reachable(self) -> bool:
        return self.sms_unreachable_reason() is None

    # --- record ---------------------------------------------------------------------------
    @property
    def reliability(self) -> float:
        return reliability_score(self.completed_count, self.expired_count, self.withdrawn_count)

    @property
    def response_rate(self) -> float | None:
        """Share of offers answered at all (accepted or declined); None before any offer."""
        if not self.offered_count:
            return None
        return min(1.0, (self.accepted_count + self.declined_count) / self.offered_count)


def nearest_volunteers(
    queryset: VolunteerQuerySet[Volunteer], lat: float, lng: float, radius_m: float,
    at: dt.datetime | None = None, limit: int | None = None,
) -> list[tuple[Volunteer, float]]:
    """Volunteers of `queryset` whose effective point is within radius_m, nearest first.

    Like community.geo.nearest, but reads the temporary cell while it lasts: the candidate
    step is indexed SQL over the disk's cells, the distance is exact (geopy)."""
    if radius_m <= 0 or radius_m > MAX_RADIUS_M:
        raise ValidationError(
            {"radius_m": f"Radius must be between 1 and {MAX_RADIUS_M} metres."},
            code=GeoErrorCode.INVALID_LOCATION,
        )
    at = at or timezone.now()
    found: list[tuple[Volunteer, float]] = []
    for volunteer in queryset.in_cells(cells_within(lat, lng, radius_m), at):
        point = volunteer.effective_point(at)
        if point is not None and (d := distance_m((lat, lng), point)) <= radius_m:
            found.append((volunteer, d))
    found.sort(key=lambda pair: pair[1])
    return found[:limit] if limit is not None else found


class AvailabilityWindow(models.Model):
    """A weekly window (Asia/Shanghai) in which the volunteer is usually free to help."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    start = models.TimeField()
    end = models.TimeField(help_text="Not after start: the window runs past midnight.")

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="availability_weekday_range"),
            models.CheckConstraint(condition=~Q(start=F("end")), name="availability_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"

    def is_open_at(self, at: dt.datetime) -> bool:
        here = local(at)
        weekday, now = here.weekday(), here.time().replace(tzinfo=None)
        if self.start < self.end:
            return self.weekday == weekday and self.start <= now < self.end
        evening = self.weekday == weekday and self.start <= now
        morning = self.weekday == (weekday - 1) % 7 and now < self.end
        return evening or morning


class VolunteerSkill(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    certificate_ref = models.CharField(max_length=100, blank=True, help_text="Certificate number or reference.")
    expires_on = models.DateField(null=True, blank=True, help_text="Last day the certificate is valid.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["volunteer", "skill"], name="unique_skill_per_volunteer")]

    def __str__(self) -> str:
        return f"{self.volunteer_id}:{self.skill_id}"

    def is_valid(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        if self.expires_on is not None and self.expires_on < local_date(at):
            return False
        if self.skill.requires_certificate and not self.certificate_ref:
            return False
        return self.skill.is_active
