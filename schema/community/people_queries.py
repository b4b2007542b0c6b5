"""Queries over residents, households, hazard points and reports (scoped by area)."""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.db.models import Q
from graphene_django import DjangoConnectionField

from community.error_codes import CommunityErrorCode
from community.geo import nearest
from community.models import Area, HazardPoint, Resident, ResidentReport
from community.permissions import Action, can, scope_paths, scope_q
from core.errors import field_error

from ..core.errors import PermissionDenied
from ..core.permissions import current_user
from ..core.scalars import LocationInput, location_to_wgs84
from ..core.types import Node, decode_id, plain
from .hazard_types import (
    HazardKindEnum,
    HazardPointType,
    NearbyHazardPoint,
    ReportKindEnum,
    ReportStatusEnum,
    ResidentReportType,
)
from .people_types import HouseholdType, NearbyResident, ResidentType, VulnerabilityFlagEnum

MAX_NEARBY = 100


def area_in_scope(info, area_id: str, action: Action) -> Area:
    user = current_user(info)
    try:
        area = Area.objects.filter(pk=decode_id(area_id, "Area", "area_id")).first()
    except ValidationError:
        area = None
    if area is None or not can(user, action, area):
        raise PermissionDenied("No such area, or you may not see it.", code="NOT_FOUND")
    return area


def has_personal_rights(user, area: Area | None) -> bool:
    """May the user see personal data everywhere this list can reach?"""
    if area is not None:
        return can(user, Action.VIEW_PERSONAL_DATA, area)
    people, personal = scope_paths(user, Action.VIEW_PEOPLE), scope_paths(user, Action.VIEW_PERSONAL_DATA)
    if people is None:
        return True
    return all(any(p.startswith(q) for q in personal or []) for p in people)


def require_staff(info, action: Action):
    user = current_user(info)
    if scope_paths(user, action) == []:
        raise PermissionDenied()
    return user



class ResidentQueries(graphene.ObjectType):
    residents = DjangoConnectionField(
        ResidentType,
        area_id=graphene.ID(description="Only residents of this area's subtree (e.g. one grid)."),
        vulnerable=graphene.Boolean(description="Only vulnerable (true) or only not vulnerable (false)."),
        vulnerability=graphene.List(graphene.NonNull(VulnerabilityFlagEnum), description="Having any of these flags."),
        search=graphene.String(description="Part of the name."),
        description="Residents you may see, vulnerable first (where you may see vulnerability).",
    )
    resident = graphene.Field(ResidentType, id=graphene.ID(required=True))
    my_resident_profile = graphene.Field(ResidentType, description="Your own resident profile, or null.")
    household = graphene.Field(HouseholdType, id=graphene.ID(required=True))
    nearby_residents = graphene.List(
        graphene.NonNull(NearbyResident),
        required=True,
        location=LocationInput(required=True),
        radius_m=graphene.Float(required=True),
        first=graphene.Int(default_value=20),
        vulnerable_only=graphene.Boolean(default_value=False),
        description=f"Staff: residents within radiusM of a point, nearest first (at most {MAX_NEARBY}).",
    )

    def resolve_residents(root, info, area_id=None, vulnerable=None, vulnerability=None, search=None, **kwargs):
        user = current_user(info)
        area = area_in_scope(info, area_id, Action.VIEW_PEOPLE) if area_id else None
        qs = Resident.objects.in_area(area) if area else Resident.objects.all()
        personal = has_personal_rights(user, area)
        if (vulnerable is not None or vulnerability) and not personal:
            raise PermissionDenied("Filtering by vulnerability needs personal-data rights for the whole area.")
        if vulnerable is not None:
            qs = qs.filter(is_vulnerable=vulnerable)
        if vulnerability:
            any_flag = Q()
            for flag in vulnerability:
                any_flag |= Q(**{plain(flag): True})
            qs = qs.filter(any_flag)
        if search:
            qs = qs.filter(display_name__icontains=search.strip()[:50])
        return qs.vulnerable_first() if personal else qs.order_by("display_name", "id")

    def resolve_resident(root, info, id):
        current_user(info)
        return Node.get_node_from_global_id(info, id, only_type=ResidentType)

    def resolve_my_resident_profile(root, info):
        user = current_user(info)
        return Resident.objects.select_related("grid", "household", "user").filter(user=user).first()

    def resolve_household(root, info, id):
        current_user(info)
        return Node.get_node_from_global_id(info, id, only_type=HouseholdType)

    def resolve_nearby_residents(root, info, location, radius_m, first=20, vulnerable_only=False):
        user = require_staff(info, Action.VIEW_PEOPLE)
        lat, lng = location_to_wgs84(location)
        qs = Resident.objects.filter(scope_q(user, Action.VIEW_PEOPLE, "grid__path")).select_related("grid", "household", "user")
        if vulnerable_only:
            if not has_personal_rights(user, None):
                raise PermissionDenied("Filtering by vulnerability needs personal-data rights.")
            qs = qs.filter(is_vulnerable=True)
        found = nearest(qs, lat, lng, radius_m, limit=_limit(first))
        return [NearbyResident(resident=row, distance_m=round(d, 1)) for row, d in found]


def _limit(first) -> int:
    if first is None or first < 1 or first > MAX_NEARBY:
        raise field_error("first", f"Between 1 and {MAX_NEARBY}.", CommunityErrorCode.INVALID)
    return first


class HazardQueries(graphene.ObjectType):
    hazard_points = DjangoConnectionField(
        HazardPointType,
        area_id=graphene.ID(),
        kind=HazardKindEnum(),
        include_inactive=graphene.Boolean(default_value=False),
        description="Hazard points in your areas, most severe first.",
    )
    overdue_inspections = DjangoConnectionField(
        HazardPointType,
        area_id=graphene.ID(),
        description="Hazard points whose inspection is due or overdue, most overdue first (for the grid worker).",
    )
    hazard_point = graphene.Field(HazardPointType, id=graphene.ID(required=True))
    nearby_hazard_points = graphene.List(
        graphene.NonNull(NearbyHazardPoint),
        required=True,
        location=LocationInput(required=True),
        radius_m=graphene.Float(required=True),
        first=graphene.Int(default_value=20),
        description="Staff: active hazard points within radiusM, nearest first.",
    )
    reports = DjangoConnectionField(
        ResidentReportType,
        area_id=graphene.ID(),
        status=ReportStatusEnum(),
        kind=ReportKindEnum(),
        description="Staff: reports filed in your areas, newest first.",
    )
    my_reports = DjangoConnectionField(ResidentReportType, description="Reports you filed, newest first.")
    report = graphene.Field(ResidentReportType, id=graphene.ID(required=True))

    def resolve_hazard_points(root, info, area_id=None, kind=None, include_inactive=False, **kwargs):
        current_user(info)
        qs = HazardPoint.objects.all()
        if area_id:
            qs = qs.in_area(area_in_scope(info, area_id, Action.VIEW_AREA))
        if kind:
            qs = qs.filter(kind=plain(kind))
        if not include_inactive:
            qs = qs.filter(is_active=True)
        return qs.order_by("-severity", "next_inspection_due", "id")

    def resolve_overdue_inspections(root, info, area_id=None, **kwargs):
        current_user(info)
        qs = HazardPoint.objects.all()
        if area_id:
            qs = qs.in_area(area_in_scope(info, area_id, Action.VIEW_AREA))
        return qs.overdue()

    def resolve_hazard_point(root, info, id):
        current_user(info)
        return Node.get_node_from_global_id(info, id, only_type=HazardPointType)

    def resolve_nearby_hazard_points(root, info, location, radius_m, first=20):
        user = require_staff(info, Action.VIEW_AREA)
        lat, lng = location_to_wgs84(location)
        qs = HazardPoint.objects.filter(scope_q(user, Action.VIEW_AREA, "grid__path"), is_active=True).select_related("grid")
        found = nearest(qs, lat, lng, radius_m, limit=_limit(first))
        return [NearbyHazardPoint(hazard_point=row, distance_m=round(d, 1)) for row, d in found]

    def resolve_reports(root, info, area_id=None, status=None, kind=None, **kwargs):
        user = current_user(info)
        qs = ResidentReport.objects.filter(scope_q(user, Action.VIEW_REPORTS, "grid__path"))
        if area_id:
            area = area_in_scope(info, area_id, Action.VIEW_REPORTS)
            qs = qs.filter(grid__path__startswith=area.path)
        if status:
            qs = qs.filter(status=plain(status))
        if kind:
            qs = qs.filter(kind=plain(kind))
        return qs.order_by("-created_at", "-id")

    def resolve_my_reports(root, info, **kwargs):
        user = current_user(info)
        return ResidentReport.objects.filter(reporter=user).order_by("-created_at", "-id")

    def resolve_report(root, info, id):
        current_user(info)
        return Node.get_node_from_global_id(info, id, only_type=ResidentReportType)
