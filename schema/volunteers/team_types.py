"""GraphQL types of emergency teams. Staff of the team's area and its leader see the roster;
members' phones only the leader and staff who may see personal data there."""

from __future__ import annotations

import graphene
from graphene_django import DjangoObjectType

from core.masking import mask_phone
from volunteers import access
from volunteers.models import Team, TeamDutyStatus, TeamKind, TeamMember

from ..community.types import AreaType
from ..core.types import CountedConnection, Node
from .types import SkillType, _enum, plain

TeamKindEnum = _enum("TeamKind", TeamKind, "RESCUE (专业救援队), PROPERTY (物业人员), MILITIA (民兵), VOLUNTEER (志愿者队伍)")
TeamDutyStatusEnum = _enum("TeamDutyStatus", TeamDutyStatus, "ON_DUTY (在岗待命), OFF_DUTY (休整), DEPLOYED (执行任务中)")


class TeamMemberType(DjangoObjectType):
    phone = graphene.String(description="The leader and staff with personal-data rights; others see it masked.")
    has_account = graphene.Boolean(required=True)

    class Meta:
        model = TeamMember
        name = "TeamMember"
        interfaces = (Node,)
        fields = ("id", "name", "role", "joined_at")

    @classmethod
    def get_node(cls, info, id):
        member = TeamMember.objects.select_related("team__area").filter(pk=id).first()
        return member if member and access.visible_teams(info.context.user).filter(pk=member.team_id).exists() else None

    def resolve_phone(self, info):
        if not self.phone:
            return None
        full = access.can_see_team_members(info.context.user, self.team)
        return str(self.phone) if full else mask_phone(str(self.phone))

    def resolve_has_account(self, info):
        return self.user_id is not None


class TeamType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    kind = graphene.Field(TeamKindEnum, required=True)
    duty_status = graphene.Field(TeamDutyStatusEnum, required=True)
    leader_name = graphene.String(required=True)
    is_mine = graphene.Boolean(required=True, description="You lead this team.")
    size = graphene.Int(required=True, description="People the leader can send (members, leader included).")
    skills = graphene.List(graphene.NonNull(SkillType), required=True)
    members = graphene.List(graphene.NonNull(TeamMemberType), required=True)

    class Meta:
        model = Team
        name = "Team"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "name", "area", "kind", "duty_status", "duty_changed_at", "notes", "is_active", "created_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_teams(info.context.user).values("pk")
        return queryset.filter(pk__in=visible).select_related("area", "leader").prefetch_related("skills", "members")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Team.objects.filter(pk=id), info).first()

    def resolve_kind(self, info):
        return plain(self.kind)

    def resolve_duty_status(self, info):
        return plain(self.duty_status)

    def resolve_leader_name(self, info):
        return self.leader.public_name

    def resolve_is_mine(self, info):
        return self.leader_id == info.context.user.pk

    def resolve_size(self, info):
        return self.size

    def resolve_skills(self, info):
        return list(self.skills.all())

    def resolve_members(self, info):
        return list(self.members.all())
