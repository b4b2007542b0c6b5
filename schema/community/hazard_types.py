"""Hazard points, inspections and resident reports."""

from __future__ import annotations

import graphene
from django.db.models import Q
from django.utils import timezone
from graphene_django import DjangoObjectType

from community.models import (
    HazardKind,
    HazardPoint,
    Inspection,
    InspectionResult,
    ReportKind,
    ReportStatus,
    ResidentReport,
    Severity,
)
from community.permissions import Action, can, scope_q
from core.masking import mask_phone

from ..core.scalars import Location
from ..core.types import CountedConnection, Node
from .people_types import location_of, scope_or_own
from .types import AreaType

HazardKindEnum = graphene.Enum.from_enum(HazardKind, description="易涝点, 老旧房屋, 燃气管线, 边坡, 建筑工地, ...")
SeverityEnum = graphene.Enum("Severity", [(s.name, s.value) for s in Severity])
InspectionResultEnum = graphene.Enum.from_enum(InspectionResult)
ReportKindEnum = graphene.Enum.from_enum(ReportKind, description="HAZARD: 隐患上报; HELP: 求助")
ReportStatusEnum = graphene.Enum.from_enum(ReportStatus)

MAX_INSPECTIONS_LISTED = 50


class InspectionType(DjangoObjectType):
    result = graphene.Field(InspectionResultEnum, required=True)
    severity_after = graphene.Field(SeverityEnum)
    inspector_name = graphene.String()

    class Meta:
        model = Inspection
        name = "Inspection"
        interfaces = (Node,)
        fields = ("id", "inspected_at", "result", "findings", "severity_after")

    def resolve_severity_after(self, info):
        return None if self.severity_after is None else int(self.severity_after)

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(scope_q(info.context.user, Action.VIEW_AREA, "hazard_point__grid__path"))

    @classmethod
    def get_node(cls, info, id):
        inspection = Inspection.objects.select_related("hazard_point__grid").filter(pk=id).first()
        if inspection is None or not can(info.context.user, Action.VIEW_AREA, inspection.hazard_point.grid):
            return None
        return inspection

    def resolve_inspector_name(self, info):
        return str(self.inspected_by) if self.inspected_by_id else None


class HazardPointType(DjangoObjectType):
    kind = graphene.Field(HazardKindEnum, required=True)
    severity = graphene.Field(SeverityEnum, required=True)
    grid = graphene.Field(AreaType, required=True)
    location = graphene.Field(Location)
    is_overdue = graphene.Boolean(required=True)
    inspections = graphene.List(
        graphene.NonNull(InspectionType), required=True, first=graphene.Int(default_value=5),
        description=f"Most recent first; at most {MAX_INSPECTIONS_LISTED}.",
    )

    class Meta:
        model = HazardPoint
        name = "HazardPoint"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = (
            "id", "name", "kind", "severity", "grid", "address", "description", "inspection_interval_days",
            "last_inspected_at", "next_inspection_due", "is_active", "created_at",
        )

    def resolve_severity(self, info):
        return int(self.severity)  # a fresh row holds the Severity member, the enum wants its value

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(scope_q(info.context.user, Action.VIEW_AREA, "grid__path")).select_related("grid")

    @classmethod
    def get_node(cls, info, id):
        point = HazardPoint.objects.select_related("grid").filter(pk=id).first()
        if point is None or not can(info.context.user, Action.VIEW_AREA, point.grid):
            return None
        return point

    def resolve_location(self, info):
        return location_of(self)

    def resolve_is_overdue(self, info):
        return self.is_active and self.next_inspection_due <= timezone.now()

    def resolve_inspections(self, info, first=5):
        first = max(0, min(first, MAX_INSPECTIONS_LISTED))
        return list(self.inspections.select_related("inspected_by")[:first])


class ResidentReportType(DjangoObjectType):
    kind = graphene.Field(ReportKindEnum, required=True)
    status = graphene.Field(ReportStatusEnum, required=True)
    grid = graphene.Field(AreaType, required=True)
    location = graphene.Field(Location)
    photo_url = graphene.String(description="Relative URL of the photo, if one was sent.")
    reporter_name = graphene.String(description="Staff of the area, and the reporter.")
    reporter_phone = graphene.String(description="Masked unless you may see personal data here.")
    is_mine = graphene.Boolean(required=True)

    class Meta:
        model = ResidentReport
        name = "ResidentReport"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = (
            "id", "kind", "description", "status", "grid", "status_note", "status_changed_at",
            "converted_at", "created_at",
        )

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(scope_or_own(user, Action.VIEW_REPORTS, Q(reporter=user))).select_related(
            "grid", "reporter"
        )

    @classmethod
    def get_node(cls, info, id):
        report = ResidentReport.objects.select_related("grid", "reporter").filter(pk=id).first()
        return report if report is not None and may_view_report(info.context.user, report) else None

    def resolve_location(self, info):
        return location_of(self)

    def resolve_photo_url(self, info):
        return self.photo.url if self.photo else None

    def resolve_reporter_name(self, info):
        return str(self.reporter)

    def resolve_reporter_phone(self, info):
        phone = str(self.reporter.phone) if self.reporter.phone else None
        if phone is None:
            return None
        user = info.context.user
        return phone if user.pk == self.reporter_id or can(user, Action.VIEW_PERSONAL_DATA, self.grid) else mask_phone(phone)

    def resolve_is_mine(self, info):
        return info.context.user.pk == self.reporter_id


def may_view_report(user, report: ResidentReport) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return report.reporter_id == user.pk or can(user, Action.VIEW_REPORTS, report.grid)


class NearbyHazardPoint(graphene.ObjectType):
    hazard_point = graphene.Field(HazardPointType, required=True)
    distance_m = graphene.Float(required=True)


class ReportEvent(graphene.ObjectType):
    """Pushed when a report in your area is filed or changes status."""

    type = graphene.String(required=True, description="report.created or report.updated")
    report = graphene.Field(ResidentReportType, required=True)
