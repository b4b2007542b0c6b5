"""Service activities: community staff publish them, members and volunteers sign up, and on
the day check in at the place (location within a radius, or a code shown on site) and out."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from community.geo import Located
from community.models import Area

# Check-in opens this long before the start, so people arriving early are not turned away.
CHECKIN_OPENS_BEFORE = dt.timedelta(minutes=30)
# Open check-ins are closed automatically this long after the end (sweep_forgotten_checkouts).
AUTO_CHECKOUT_AFTER = dt.timedelta(hours=2)


class ActivityStatus(models.TextChoices):
    PUBLISHED = "PUBLISHED", "已发布"
    CANCELLED = "CANCELLED", "已取消"


class SignupStatus(models.TextChoices):
    SIGNED_UP = "SIGNED_UP", "已报名"
    CANCELLED = "CANCELLED", "已取消"


class CheckInMethod(models.TextChoices):
    LOCATION = "LOCATION", "定位签到"
    CODE = "CODE", "现场签到码"


class CheckOutMethod(models.TextChoices):
    SELF = "SELF", "本人签退"
    AUTO = "AUTO", "活动结束后自动签退"


class ServiceActivity(Located):
    """Located holds the meeting point (WGS-84); check-in is measured from it."""

    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="service_activities")
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    address = models.CharField(max_length=200, blank=True, help_text="Where to meet, as people say it.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    signed_up_count = models.PositiveIntegerField(default=0, help_text="Claimed with a conditional UPDATE.")
    checkin_radius_m = models.PositiveIntegerField(default=200)
    checkin_code = models.CharField(max_length=12, blank=True, help_text="Optional code shown on site.")
    status = models.CharField(max_length=16, choices=ActivityStatus.choices, default=ActivityStatus.PUBLISHED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "service activities"
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["community", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="activity_ends_after_start"),
            models.CheckConstraint(condition=Q(signed_up_count__lte=F("capacity")), name="activity_not_over_capacity"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - self.signed_up_count)

    @property
    def meeting_point(self) -> tuple[float, float]:
        """Where check-in is measured from: publishing refuses an activity without one."""
        point = self.point
        if point is None:
            raise ValueError(f"activity {self.pk} has no meeting point")
        return point

    def checkin_open_at(self, at: dt.datetime) -> bool:
        return self.starts_at - CHECKIN_OPENS_BEFORE <= at <= self.ends_at


class ActivitySignup(models.Model):
    """One row per person and activity; cancelling and signing up again flips its status."""

    activity = models.ForeignKey(ServiceActivity, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_signups")
    status = models.CharField(max_length=16, choices=SignupStatus.choices, default=SignupStatus.SIGNED_UP)
    signed_up_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="one_signup_per_person_and_activity")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.activity_id} ({self.status})"


class ActivityCheckIn(models.Model):
    """Attendance: at most one per person and activity, so a replay can never count twice."""

    activity = models.ForeignKey(ServiceActivity, on_delete=models.CASCADE, related_name="checkins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_checkins")
    checked_in_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=16, choices=CheckInMethod.choices)
    lat = models.FloatField(null=True, blank=True, help_text="Reported position, WGS-84.")
    lng = models.FloatField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    checkout_method = models.CharField(max_length=16, choices=CheckOutMethod.choices, blank=True)
    hours_entry = models.OneToOneField(
        "volunteers.ServiceHoursEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="checkin"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="one_checkin_per_person_and_activity")]
        indexes = [models.Index(fields=["checked_out_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.activity_id}"
