from __future__ import annotations

import graphene
from django.db.models import Q
from django.utils import timezone
from graphene_django import DjangoConnectionField

from community.models import Area, User
from community.permissions import Action, scope_paths, scope_q
from volunteers import access
from volunteers.models import (
    PartyMemberRegistration,
    ServiceActivity,
    Skill,
    Team,
    Volunteer,
    nearest_volunteers,
)
from volunteers.models.party import ACTIVE_PARTY_STATUSES
from volunteers.services import entries_for, hours_summary, resolve_range
from volunteers.services.hours import Period, local_range_q

from ..core.errors import PermissionDenied
from ..core.lookup import get_node_or_error, get_node_or_none
from ..core.permissions import current_user
from ..core.scalars import LocationInput, location_to_wgs84
from ..core.types import plain
from .activity_types import HoursBucket, HoursPeriodEnum, ServiceActivityType, ServiceHoursSummary
from .task_queries import TaskQueries
from .team_types import TeamDutyStatusEnum, TeamKindEnum, TeamType
from .types import (
    PartyMemberRegistrationType,
    PartyRegistrationStatusEnum,
    SkillType,
    VolunteerStatusEnum,
    VolunteerType,
    optimise_volunteers,
)

MAX_NEARBY = 100


def _require_staff(user, action: Action = Action.VIEW_PEOPLE) -> None:
    paths = scope_paths(user, action)
    if paths is not None and not paths:
        raise PermissionDenied()


def _area_arg(area_id: str | None, field: str) -> Area | None:
    return get_node_or_none(Area, area_id, field)



class NearbyVolunteerConnection(graphene.relay.Connection):
    class Meta:
        node = VolunteerType

    class Edge:
        distance_m = graphene.Float(required=True, description="Metres from the given location; to the nearest 100 m "
                                                               "unless you may see the volunteer's home (homeLocation).")

        def resolve_distance_m(edge, info):
            # Exact distances from places of one's choosing would give away the home that
            # homeLocation hides (three of them are a position fix).
            if VolunteerType._personal(edge.node, info):
                return edge.node.distance_m
            return float(round(edge.node.distance_m, -2))

    total_count = graphene.Int(required=True)

    def resolve_total_count(root, info):
        return len(root.iterable)


def filter_volunteers(qs, *, status=None, area=None, skills=None, available_now=None, on_duty=None, search=None):
    now = timezone.now()
    if status is not None:
        qs = qs.filter(status=plain(status))
    if area is not None:
        qs = qs.serving(area)
    if skills:
        qs = qs.with_valid_skills(skills[:10], now)
    if available_now:
        qs = qs.in_pool().available_at(now)
    if on_duty is not None:
        qs = qs.filter(on_duty_until__gt=now) if on_duty else qs.exclude(on_duty_until__gt=now)
    if search:
        term = search.strip()[:50]
        qs = qs.filter(Q(user__display_name__icontains=term) | Q(user__username__icontains=term))
    return qs


class VolunteersQueries(TaskQueries, graphene.ObjectType):
    """Volunteers, Party members, activities, service hours, tasks and offers."""

    skills = DjangoConnectionField(SkillType, description="The managed list of skills.")
    teams = DjangoConnectionField(
        TeamType, area_id=graphene.ID(description="Serving in this area's subtree."), kind=TeamKindEnum(),
        duty_status=TeamDutyStatusEnum(),
        description="Emergency teams: staff see their areas' teams; a leader or member their own teams.",
    )
    my_volunteer_profile = graphene.Field(VolunteerType, description="Your volunteer profile, or null.")
    volunteers = DjangoConnectionField(
        VolunteerType,
        status=VolunteerStatusEnum(),
        area_id=graphene.ID(description="Signed up in or serving in this area's subtree."),
        skills=graphene.List(graphene.NonNull(graphene.String), description="Holding every one of these, valid now."),
        available_now=graphene.Boolean(),
        on_duty=graphene.Boolean(),
        search=graphene.String(description="Part of the name."),
        description="Staff: volunteers in your areas (VIEW_PEOPLE), newest first.",
    )
    nearby_volunteers = graphene.relay.ConnectionField(
        NearbyVolunteerConnection,
        location=LocationInput(required=True),
        radius_m=graphene.Int(required=True, description="1 to 50000 metres."),
        skills=graphene.List(graphene.NonNull(graphene.String)),
        available_only=graphene.Boolean(default_value=True),
        description="Staff: approved volunteers in your areas near a place, nearest first (at most 100).",
    )
    my_party_member_registration = graphene.Field(
        PartyMemberRegistrationType, description="Your active registration, else your latest, or null."
    )
    party_member_registrations = DjangoConnectionField(
        PartyMemberRegistrationType,
        community_id=graphene.ID(),
        status=PartyRegistrationStatusEnum(),
        description="Staff: registrations with communities in your areas.",
    )
    service_activities = DjangoConnectionField(
        ServiceActivityType,
        community_id=graphene.ID(),
        upcoming=graphene.Boolean(description="Only those not yet ended."),
        signed_up_only=graphene.Boolean(description="Only those you signed up for."),
        description="Activities of the areas you belong to or manage, soonest first.",
    )
    my_service_hours = graphene.Field(
        ServiceHoursSummary,
        community_id=graphene.ID(description="Only hours in this community."),
        period=HoursPeriodEnum(default_value=Period.MONTH.value),
        from_=graphene.Date(name="from"),
        to=graphene.Date(),
        description="Your service hours per period (default: the last 12 months).",
    )
    service_hours = graphene.Field(
        ServiceHoursSummary,
        community_id=graphene.ID(required=True),
        user_id=graphene.ID(description="One member; omit for the whole community."),
        period=HoursPeriodEnum(default_value=Period.MONTH.value),
        from_=graphene.Date(name="from"),
        to=graphene.Date(),
        description="Staff: a community's (or one member's) hours per period.",
    )

    def resolve_skills(root, info, **kwargs):
        return Skill.objects.filter(is_active=True)

    def resolve_my_volunteer_profile(root, info):
        user = info.context.user
        if not user.is_authenticated:
            return None
        return optimise_volunteers(Volunteer.objects.filter(user=user)).first()

    def resolve_volunteers(root, info, status=None, area_id=None, skills=None, available_now=None, on_duty=None, search=None, **kwargs):
        user = current_user(info)
        _require_staff(user)
        qs = access.staff_volunteers(user)
        qs = filter_volunteers(qs, status=status, area=_area_arg(area_id, "area_id"), skills=skills,
                               available_now=available_now, on_duty=on_duty, search=search)
        return qs.order_by("-signed_up_at", "-id")

    def resolve_teams(root, info, area_id=None, kind=None, duty_status=None, **kwargs):
        current_user(info)
        qs = Team.objects.filter(is_active=True).order_by("area__path", "name", "id")
        area = _area_arg(area_id, "area_id")
        if area is not None:
            qs = qs.filter(area__path__startswith=area.path)
        if kind is not None:
            qs = qs.filter(kind=plain(kind))
        if duty_status is not None:
            qs = qs.filter(duty_status=plain(duty_status))
        return qs

    def resolve_nearby_volunteers(root, info, location, radius_m, skills=None, available_only=True, **kwargs):
        user = current_user(info)
        _require_staff(user)
        lat, lng = location_to_wgs84(location, "location")
        now = timezone.now()
        qs = filter_volunteers(access.staff_volunteers(user).in_pool(), skills=skills, available_now=available_only)
        found = nearest_volunteers(optimise_volunteers(qs), lat, lng, radius_m, at=now, limit=MAX_NEARBY)
        for volunteer, distance in found:
            volunteer.distance_m = round(distance, 1)
        return [v for v, _ in found]

    def resolve_my_party_member_registration(root, info):
        user = info.context.user
        if not user.is_authenticated:
            return None
        mine = PartyMemberRegistration.objects.filter(user=user).select_related("community", "user")
        return mine.filter(status__in=ACTIVE_PARTY_STATUSES).first() or mine.order_by("-created_at", "-id").first()

    def resolve_party_member_registrations(root, info, community_id=None, status=None, **kwargs):
        user = current_user(info)
        _require_staff(user)
        qs = PartyMemberRegistration.objects.filter(scope_q(user, Action.VIEW_PEOPLE, "community__path"))
        community = _area_arg(community_id, "community_id")
        if community is not None:
            qs = qs.filter(community__path__startswith=community.path)
        if status is not None:
            qs = qs.filter(status=plain(status))
        return qs.order_by("-created_at", "-id")

    def resolve_service_activities(root, info, community_id=None, upcoming=None, signed_up_only=None, **kwargs):
        user = current_user(info)
        qs = ServiceActivity.objects.all()
        community = _area_arg(community_id, "community_id")
        if community is not None:
            qs = qs.filter(community=community)
        if upcoming:
            qs = qs.filter(ends_at__gt=timezone.now())
        if signed_up_only:
            qs = qs.filter(signups__user=user, signups__status="SIGNED_UP")
        return qs.order_by("starts_at", "id")

    def resolve_my_service_hours(root, info, community_id=None, period=Period.MONTH.value, from_=None, to=None):
        user = current_user(info)
        community = _area_arg(community_id, "community_id")
        return _summary(entries_for(user=user, community=community), period, from_, to)

    def resolve_service_hours(root, info, community_id, user_id=None, period=Period.MONTH.value, from_=None, to=None):
        user = current_user(info)
        community = get_node_or_error(Area, community_id, "community_id")
        if not access.can_view_community_hours(user, community):
            raise PermissionDenied()
        member = None
        if user_id is not None:
            member = get_node_or_error(User, user_id, "user_id")
        return _summary(entries_for(user=member, community=community), period, from_, to)


def _summary(entries, period, start, end) -> ServiceHoursSummary:
    period = Period(plain(period) or Period.MONTH.value)  # an explicit null means the default
    start, end = resolve_range(period, start, end)
    summary = hours_summary(entries, period, start, end)
    result = ServiceHoursSummary(
        total=summary.total, entry_count=summary.entry_count, period=period.value, start=start, end=end,
        periods=[HoursBucket(start=s, hours=h) for s, h in summary.buckets],
    )
    result.entry_queryset = entries.filter(local_range_q(start, end))
    return result

