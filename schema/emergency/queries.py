"""Queries of the emergency footing: plans, runs, alerts, safety checks, mobilisation, review."""

from __future__ import annotations

import graphene
from django.db.models import Q
from django.utils import timezone
from graphene_django import DjangoConnectionField

from community.models import Area
from community.permissions import Action
from emergency.models import (
    Alert,
    Drill,
    Mobilisation,
    PlanRun,
    ResponsePlan,
    SafetyCheck,
    SafetyCheckStatus,
    SafetyStatus,
    WindDown,
)
from emergency.plans import plan_for

from ..community.types import LanguageEnum, ModeEnum
from ..core.lookup import get_node_or_error
from ..core.permissions import current_user, require, require_view_area
from ..core.types import plain
from .drill_types import DrillType, WindDownType
from .review_types import AfterActionReportType, resolve_after_action_report
from .types import (
    AlertType,
    MobilisationType,
    PlanRunType,
    ResponsePlanType,
    SafetyCheckType,
    SafetyStatusType,
    answerable_q,
)


class EmergencyQueries(graphene.ObjectType):
    response_plans = DjangoConnectionField(
        ResponsePlanType, area_id=graphene.ID(required=True), mode=ModeEnum(),
        all_versions=graphene.Boolean(default_value=False),
        description="Staff: the plans defined on this area (latest versions unless allVersions).",
    )
    effective_plan = graphene.Field(
        ResponsePlanType, area_id=graphene.ID(required=True), mode=ModeEnum(required=True),
        description="The plan a switch of this area into this mode would run (its own, or an ancestor's).",
    )
    plan_runs = DjangoConnectionField(PlanRunType, area_id=graphene.ID(required=True), description="Staff: newest first.")
    alerts = DjangoConnectionField(
        AlertType, area_id=graphene.ID(required=True), active_only=graphene.Boolean(default_value=False),
        description="Alerts for this area and the areas above it, newest first.",
    )
    safety_checks = DjangoConnectionField(
        SafetyCheckType, area_id=graphene.ID(required=True), active_only=graphene.Boolean(default_value=False),
        description="Staff: safety checks in this area's subtree, newest first.",
    )
    my_safety_statuses = DjangoConnectionField(
        SafetyStatusType, active_only=graphene.Boolean(default_value=True),
        description="Safety checks asking about you, or about someone you may answer for (household, linked contact).",
    )
    my_mobilisations = DjangoConnectionField(MobilisationType, description="Standby and call-in requests sent to you.")
    wind_downs = DjangoConnectionField(
        WindDownType, area_id=graphene.ID(required=True),
        description="Staff: wind-downs of this area's subtree (drills' and real), newest first: what each closed and "
                    "what still runs.",
    )
    drills = DjangoConnectionField(
        DrillType, area_id=graphene.ID(required=True), active_only=graphene.Boolean(default_value=False),
        description="Staff: drills on this area's subtree, newest first.",
    )
    after_action_report = graphene.Field(
        AfterActionReportType, area_id=graphene.ID(required=True), since=graphene.DateTime(required=True),
        until=graphene.DateTime(required=True), drills=graphene.Boolean(default_value=False),
        language=LanguageEnum(description="Of html and the files; default: the request's Accept-Language, else yours."),
        description="Staff: what happened in the area in the period; drill data only when drills is true.",
    )

    def resolve_response_plans(root, info, area_id, mode=None, all_versions=False, **kwargs):
        area = get_node_or_error(Area, area_id, "area_id")
        require(info, Action.VIEW_AREA, area)
        qs = ResponsePlan.objects.filter(area=area).order_by("mode", "-version")
        if mode:
            qs = qs.filter(mode=plain(mode))
        if not all_versions:
            latest = {}
            for pk, m in qs.values_list("pk", "mode"):
                latest.setdefault(m, pk)
            qs = qs.filter(pk__in=latest.values())
        return qs

    def resolve_effective_plan(root, info, area_id, mode):
        area = get_node_or_error(Area, area_id, "area_id")
        require(info, Action.VIEW_AREA, area)
        return plan_for(area, plain(mode))

    def resolve_plan_runs(root, info, area_id, **kwargs):
        area = get_node_or_error(Area, area_id, "area_id")
        require(info, Action.VIEW_AREA, area)
        return PlanRun.objects.filter(area__path__startswith=area.path).order_by("-created_at", "-id")

    def resolve_alerts(root, info, area_id, active_only=False, **kwargs):
        area = get_node_or_error(Area, area_id, "area_id")
        require_view_area(info, area)
        qs = Alert.objects.filter(area__path__in=area.ancestor_paths()).order_by("-sent_at", "-id")
        if active_only:
            now = timezone.now()
            qs = qs.filter(superseded_at__isnull=True, expires__isnull=True) | qs.filter(superseded_at__isnull=True, expires__gt=now)
            qs = qs.exclude(msg_type="Cancel")
        return qs

    def resolve_safety_checks(root, info, area_id, active_only=False, **kwargs):
        area = get_node_or_error(Area, area_id, "area_id")
        require(info, Action.VIEW_PEOPLE, area)
        covering = Q(area__path__startswith=area.path) | Q(area__path__in=area.ancestor_paths())
        qs = SafetyCheck.objects.filter(covering).order_by("-started_at", "-id")
        return qs.filter(status=SafetyCheckStatus.ACTIVE) if active_only else qs

    def resolve_my_safety_statuses(root, info, active_only=True, **kwargs):
        user = current_user(info)
        qs = SafetyStatus.objects.filter(answerable_q(user))
        if active_only:
            qs = qs.filter(safety_check__status=SafetyCheckStatus.ACTIVE)
        return (qs.select_related("resident__user", "resident__grid", "grid", "safety_check__area")
                .order_by("-safety_check__started_at", "pk"))

    def resolve_my_mobilisations(root, info, **kwargs):
        user = current_user(info)
        return Mobilisation.objects.filter(user=user).order_by("-notified_at", "-id")

    def resolve_wind_downs(root, info, area_id, **kwargs):
        area = get_node_or_error(Area, area_id, "area_id")
        require(info, Action.VIEW_AREA, area)
        return WindDown.objects.filter(area__path__startswith=area.path).order_by("-created_at", "-id")

    def resolve_drills(root, info, area_id, active_only=False, **kwargs):
        area = get_node_or_error(Area, area_id, "area_id")
        require(info, Action.VIEW_AREA, area)
        qs = Drill.objects.filter(area__path__startswith=area.path).select_related("area").order_by("-started_at", "-id")
        return qs.filter(ended_at__isnull=True) if active_only else qs

    def resolve_after_action_report(root, info, area_id, since, until, drills=False, language=None):
        return resolve_after_action_report(info, area_id, since, until, drills, language)
