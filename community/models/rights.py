"""Requests a person makes about their own data (PIPL art. 46, 47): correct it, erase it.
Each is tracked to an answer by staff of the person's grid."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .core import Area, User


class RightsRequestKind(models.TextChoices):
    CORRECTION = "correction", "更正"
    ERASURE = "erasure", "删除（注销）"


class RightsRequestStatus(models.TextChoices):
    OPEN = "open", "待处理"
    DONE = "done", "已办理"
    REFUSED = "refused", "不予办理"  # with the reason, e.g. a legal duty to keep the record


class RightsRequest(models.Model):
    kind = models.CharField(max_length=16, choices=RightsRequestKind.choices)
    status = models.CharField(max_length=16, choices=RightsRequestStatus.choices, default=RightsRequestStatus.OPEN)
    requester = models.ForeignKey(User, on_delete=models.PROTECT, related_name="rights_requests")
    resident = models.ForeignKey("community.Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    grid = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text="Whose staff review it (the resident's grid when asked); none: administrators.")
    field = models.CharField(max_length=64, blank=True, help_text="Correction: what is wrong (e.g. address).")
    requested_value = models.TextField(blank=True, help_text="Correction: what it should say.")
    reason = models.TextField(blank=True)
    answer = models.TextField(blank=True)
    handled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["requester"], condition=Q(kind="erasure", status="open"),
                                    name="one_open_erasure_request_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} request {self.pk} [{self.status}]"
