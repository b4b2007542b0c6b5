"""Party-member check-in (党员报到): in-service Party members register with the community
where they live and serve there; in an emergency they are part of the mobilisation pool."""

from __future__ import annotations

from typing import Self, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.geo import Located
from community.models import Area


class PartyRegistrationStatus(models.TextChoices):
    PENDING = "PENDING", "待确认"
    CONFIRMED = "CONFIRMED", "已报到"
    REJECTED = "REJECTED", "未通过"
    ENDED = "ENDED", "已结束"


ACTIVE_PARTY_STATUSES = (PartyRegistrationStatus.PENDING, PartyRegistrationStatus.CONFIRMED)


# Generic in the row type, so rows annotated along a chain keep their annotations' types.
_R = TypeVar("_R", bound="PartyMemberRegistration", covariant=True)


class PartyMemberRegistrationQuerySet(models.QuerySet[_R]):
    def active(self) -> Self:
        return self.filter(status__in=ACTIVE_PARTY_STATUSES)

    def confirmed_in(self, area: Area) -> Self:
        """Confirmed registrations that serve `area`: with a community inside it (area is a
        community or above) or with the community that contains it (area is a grid).

        The emergency mobilisation pool is this query, never a copy."""
        serves = Q(community__path__startswith=area.path) | Q(community__path__in=area.ancestor_paths())
        return self.filter(serves, status=PartyRegistrationStatus.CONFIRMED, user__is_active=True)


class PartyMemberRegistration(Located):
    """One registration of one person with one community. Located holds the home point."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="party_registrations")
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="party_registrations")
    name = models.CharField(max_length=50)
    work_unit = models.CharField(max_length=100, help_text="单位")
    party_branch = models.CharField(max_length=100, help_text="所在党支部")
    home_address = models.CharField(max_length=200, help_text="Home address in the community")
    status = models.CharField(max_length=16, choices=PartyRegistrationStatus.choices, default=PartyRegistrationStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who rejected or ended it.",
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was rejected or ended.")

    objects = PartyMemberRegistrationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["PENDING", "CONFIRMED"]),
                name="one_active_party_registration_per_user",
            ),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return f"{self.name} @ {self.community.name} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PARTY_STATUSES
