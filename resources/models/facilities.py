"""Facilities (应急设施): shelters (避难场所) and other emergency points — medical, water,
charging — with their place, capacity, accessibility and status; who is in a shelter, by
household; and every change of a facility's status or occupancy, in order.

A shelter's occupancy is a counter on its row, moved only by conditional UPDATEs that keep
it within capacity (resources.facilities), so two check-ins racing for the last places
cannot both win; ShelterStay rows say who is inside, FacilityEvent rows how it changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from community.geo import Located
from community.models import Area, Household, Resident


class FacilityKind(models.TextChoices):
    SHELTER = "SHELTER", "避难场所"
    MEDICAL = "MEDICAL", "医疗点"
    WATER = "WATER", "供水点"
    CHARGING = "CHARGING", "充电点"


class FacilityStatus(models.TextChoices):
    CLOSED = "CLOSED", "关闭"
    OPEN = "OPEN", "开放"
    FULL = "FULL", "已满"


class Facility(Located):
    """Located holds the entrance (WGS-84); `capacity` counts people (shelters only)."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="facilities")
    code = models.SlugField(max_length=64, unique=True, help_text="Stable name plans refer to, e.g. hz-sc-1-school.")
    kind = models.CharField(max_length=16, choices=FacilityKind.choices)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=255, blank=True)
    capacity = models.PositiveIntegerField(default=0, help_text="People it can hold; 0 for points that hold nobody.")
    occupancy = models.PositiveIntegerField(default=0, help_text="People checked in now (conditional UPDATEs only).")
    wheelchair_accessible = models.BooleanField(default=False)
    elderly_care = models.BooleanField(default=False, help_text="Staffed and equipped for elderly and frail people.")
    notes = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=FacilityStatus.choices, default=FacilityStatus.CLOSED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["area_id", "kind", "name", "id"]
        indexes = [models.Index(fields=["kind", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(capacity=0) | Q(occupancy__lte=F("capacity")),
                                   name="facility_not_over_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def room(self) -> int:
        return max(0, self.capacity - self.occupancy)

    @property
    def holds_people(self) -> bool:
        return self.kind == FacilityKind.SHELTER


class ShelterStay(models.Model):
    """One person in a shelter, from check-in to check-out. Walk-ins who are not on the roster
    are recorded by name (and count towards occupancy) with no resident."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="stays")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="shelter_stays")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="shelter_stays")
    name = models.CharField(max_length=100, help_text="As registered at the door (a resident's display name).")
    is_vulnerable = models.BooleanField(default=False)
    vulnerability_flags = models.JSONField(default=list, blank=True)
    checked_in_at = models.DateTimeField(default=timezone.now)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_out_at = models.DateTimeField(null=True, blank=True)
    checked_out_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-is_vulnerable", "checked_in_at", "id"]
        indexes = [models.Index(fields=["facility", "checked_out_at"])]
        constraints = [
            # A resident is in one shelter at a time.
            models.UniqueConstraint(fields=["resident"], condition=Q(resident__isnull=False, checked_out_at__isnull=True),
                                    name="one_open_stay_per_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.facility_id}"

    @property
    def is_inside(self) -> bool:
        return self.checked_out_at is None


class FacilityEventKind(models.TextChoices):
    OPENED = "OPENED", "开放"
    CLOSED = "CLOSED", "关闭"
    CHECK_IN = "CHECK_IN", "入住"
    CHECK_OUT = "CHECK_OUT", "离开"


class FacilityEvent(models.Model):
    """A facility's history: status changes and occupancy after each check-in or check-out
    (the after-action report draws occupancy over time from these rows)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=FacilityEventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    delta = models.IntegerField(default=0)
    occupancy = models.PositiveIntegerField(help_text="After this event.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["facility", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.facility_id} -> {self.occupancy}"
