"""Hazard points (风险点) with their inspections, and resident reports (隐患上报 / 求助)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.utils import timezone

from ..geo import Located
from .core import Area, User
from .residents import Resident


class HazardKind(models.TextChoices):
    WATERLOGGING = "waterlogging", "易涝点"
    OLD_BUILDING = "old_building", "老旧房屋"
    GAS_LINE = "gas_line", "燃气管线"
    SLOPE = "slope", "边坡/山体"
    CONSTRUCTION_SITE = "construction_site", "建筑工地"
    ELECTRICAL = "electrical", "电力设施"
    FIRE = "fire", "消防隐患"
    WATERWAY = "waterway", "河道/水域"
    OTHER = "other", "其他"


class Severity(models.IntegerChoices):
    LOW = 1, "低"
    MEDIUM = 2, "中"
    HIGH = 3, "高"
    CRITICAL = 4, "极高"


class HazardPointQuerySet(models.QuerySet["HazardPoint"]):
    def in_area(self, area: Area) -> HazardPointQuerySet:
        return self.filter(grid__path__startswith=area.path)

    def overdue(self, at: dt.datetime | None = None) -> HazardPointQuerySet:
        """Active points whose next inspection is due at `at` (now) or earlier, oldest first."""
        at = at or timezone.now()
        return self.filter(is_active=True, next_inspection_due__lte=at).order_by(
            "next_inspection_due", "-severity", "id"
        )


class HazardPoint(Located):
    """A mapped risk that needs inspection on a schedule."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, choices=HazardKind.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.MEDIUM)
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="hazard_points")
    address = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    inspection_interval_days = models.PositiveIntegerField(default=30)
    last_inspected_at = models.DateTimeField(null=True, blank=True)
    next_inspection_due = models.DateTimeField(db_index=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HazardPointQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["grid", "is_active", "next_inspection_due"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def schedule_next(self, after: dt.datetime) -> None:
        self.next_inspection_due = after + dt.timedelta(days=self.inspection_interval_days)


class InspectionResult(models.TextChoices):
    OK = "ok", "正常"
    ISSUES_FOUND = "issues_found", "发现问题"
    DANGER = "danger", "危险"


class Inspection(models.Model):
    """One inspection of a hazard point, with what was found."""

    hazard_point = models.ForeignKey(HazardPoint, on_delete=models.CASCADE, related_name="inspections")
    inspected_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    inspected_at = models.DateTimeField(default=timezone.now)
    result = models.CharField(max_length=16, choices=InspectionResult.choices)
    findings = models.TextField(blank=True)
    severity_after = models.PositiveSmallIntegerField(choices=Severity.choices, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-inspected_at", "-id"]
        indexes = [models.Index(fields=["hazard_point", "inspected_at"])]

    def __str__(self) -> str:
        return f"{self.hazard_point.name} @ {self.inspected_at:%Y-%m-%d}"


class ReportKind(models.TextChoices):
    HAZARD = "hazard", "隐患上报"
    HELP = "help", "求助"


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交"
    ACKNOWLEDGED = "acknowledged", "已受理"
    CONVERTED_TO_TASK = "converted_to_task", "已转任务"
    RESOLVED = "resolved", "已解决"
    DISMISSED = "dismissed", "不予处理"


# The one table of legal status moves (STYLE: one enum per state machine).
REPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    ReportStatus.SUBMITTED: frozenset(
        {ReportStatus.ACKNOWLEDGED, ReportStatus.CONVERTED_TO_TASK, ReportStatus.RESOLVED, ReportStatus.DISMISSED}
    ),
    ReportStatus.ACKNOWLEDGED: frozenset(
        {ReportStatus.CONVERTED_TO_TASK, ReportStatus.RESOLVED, ReportStatus.DISMISSED}
    ),
    ReportStatus.CONVERTED_TO_TASK: frozenset({ReportStatus.RESOLVED}),
    ReportStatus.RESOLVED: frozenset(),
    ReportStatus.DISMISSED: frozenset(),
}
OPEN_REPORT_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.ACKNOWLEDGED)


def report_photo_path(instance: ResidentReport, filename: str) -> str:
    # Never the client's file name: a random name with the sniffed extension.

    ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"reports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class ResidentReport(Located):
    """A hazard reported, or help asked for, by a resident from the app."""

    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    description = models.TextField()
    photo = models.FileField(upload_to=report_photo_path, blank=True)
    photo_content_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=24, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED)
    reporter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="resident_reports")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="resident_reports")
    client_key = models.CharField(max_length=255, blank=True, help_text="The client's idempotency key")
    hazard_point = models.ForeignKey(
        HazardPoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    status_note = models.CharField(max_length=500, blank=True)
    handled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["grid", "status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "client_key"],
                condition=~models.Q(client_key=""),
                name="unique_report_client_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REPORT_STATUSES
