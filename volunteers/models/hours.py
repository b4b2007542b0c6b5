"""The service-hours ledger: append only. A mistake is fixed by a new correcting entry
(negative or positive) that points at the entry it corrects; nothing is edited or deleted,
so every total can be explained line by line."""

from __future__ import annotations

from typing import Any, NoReturn, TypedDict

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.models import Area


class ServiceHoursKind(models.TextChoices):
    ACTIVITY = "ACTIVITY", "服务活动"
    TASK = "TASK", "任务"
    MANUAL = "MANUAL", "人工登记"
    CORRECTION = "CORRECTION", "更正"


class AppendOnlyError(Exception):
    """Raised on any attempt to edit or delete a ledger entry."""


class SourceFields(TypedDict):
    """What links an entry to the activity or task it credits (both None for manual hours)."""

    source_type_id: int | None
    source_id: int | None


class ServiceHoursQuerySet(models.QuerySet["ServiceHoursEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Service-hours entries are append only; record a correction.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Service-hours entries are append only; record a correction.")


class ServiceHoursEntry(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_hours")
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="service_hours")
    hours = models.DecimalField(max_digits=7, decimal_places=2)
    kind = models.CharField(max_length=16, choices=ServiceHoursKind.choices)
    reason = models.CharField(max_length=500, blank=True)
    source_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    occurred_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the service was done; periods are counted by this (a correction "
        "inherits the corrected entry's time, so it fixes the right month).",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ServiceHoursQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name_plural = "service hours entries"
        indexes = [
            models.Index(fields=["community", "occurred_at"]),
            models.Index(fields=["user", "occurred_at"]),
            models.Index(fields=["source_type", "source_id"]),
        ]
        constraints = [
            # A source (an activity, a task) credits a person once; changes are corrections.
            models.UniqueConstraint(
                fields=["user", "source_type", "source_id"],
                condition=Q(corrects__isnull=True, source_id__isnull=False),
                name="one_credit_per_person_and_source",
            ),
            models.CheckConstraint(condition=~Q(hours=0), name="service_hours_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.hours:+} h ({self.kind})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Service-hours entries are append only; record a correction.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Service-hours entries are append only; record a correction.")

    @classmethod
    def source_fields(cls, source: models.Model | None) -> SourceFields:
        if source is None:
            return {"source_type_id": None, "source_id": None}
        return {"source_type_id": ContentType.objects.get_for_model(source).pk, "source_id": source.pk}
