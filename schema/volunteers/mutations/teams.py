"""Emergency teams: staff keep the roster (MANAGE_RESOURCES over the team's area), the
leader or staff report its duty status, staff offer a task to a team (MANAGE_TASKS over the
task's area) and the leader answers for how many people the team sends."""

from __future__ import annotations

import graphene

from community.models import Area, User
from volunteers import access
from volunteers.models import Offer, Team, TeamMember
from volunteers.services import (
    TeamSpec,
    add_team_member,
    offer_task_to_team,
    remove_team_member,
    respond_to_team_offer,
    save_team,
    set_team_duty_status,
)

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ..task_types import AnswerOutcomeEnum, OfferType, TaskAssignmentType
from ..team_types import TeamDutyStatusEnum, TeamKindEnum, TeamMemberType, TeamType
from ..types import plain
from .tasks import managed_task


class TeamInput(graphene.InputObjectType):
    area_id = graphene.ID(required=True, description="Where the team serves (district, subdistrict, community, grid).")
    name = graphene.String(required=True)
    kind = TeamKindEnum(required=True)
    leader_id = graphene.ID(required=True, description="The leader's user ID (they answer team offers in the app).")
    skills = graphene.List(graphene.NonNull(graphene.String), description="Skill codes the team brings.")
    notes = graphene.String(default_value="")


def _managed_team(info, team_id: str) -> Team:
    user = current_user(info)
    team = get_node_or_error(Team.objects.select_related("area", "leader"), team_id, "team_id")
    if not access.can_manage_team(user, team):
        raise PermissionDenied()
    return team


class SaveTeam(BaseMutation):
    """Create a team (no teamId) or replace its details. Staff of the area."""

    team = graphene.Field(TeamType)

    class Arguments:
        input = TeamInput(required=True)
        team_id = graphene.ID()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input, team_id=None):
        user = current_user(info)
        area = get_node_or_error(Area, input["area_id"], "area_id")
        existing = _managed_team(info, team_id) if team_id else None
        if not access.can_manage_team(user, area):
            raise PermissionDenied()
        leader = get_node_or_error(User.objects.filter(is_active=True), input["leader_id"], "leader_id", type_name="User")
        spec = TeamSpec(name=input["name"], kind=plain(input["kind"]), leader=leader, skills=input.get("skills") or (),
                        notes=input.get("notes") or "")
        return cls(errors=[], team=save_team(spec, area=area, by=user, team=existing))


class SetTeamDutyStatus(BaseMutation):
    """The leader (or staff of the area) reports the team on duty, resting or deployed."""

    team = graphene.Field(TeamType)

    class Arguments:
        team_id = graphene.ID(required=True)
        duty_status = TeamDutyStatusEnum(required=True)

    @classmethod
    def perform_mutation(cls, root, info, team_id, duty_status):
        user = current_user(info)
        team = get_node_or_error(Team.objects.select_related("area"), team_id, "team_id")
        if not access.can_set_team_duty(user, team):
            raise PermissionDenied()
        return cls(errors=[], team=set_team_duty_status(team, plain(duty_status)))


class AddTeamMember(BaseMutation):
    """Staff add someone to the roster: by name and phone, or linking their account."""

    member = graphene.Field(TeamMemberType)

    class Arguments:
        team_id = graphene.ID(required=True)
        name = graphene.String(required=True)
        phone = graphene.String()
        role = graphene.String(default_value="")
        user_id = graphene.ID(description="Their account, if they have one.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, team_id, name, phone=None, role="", user_id=None):
        team = _managed_team(info, team_id)
        linked = get_node_or_none(User.objects.filter(is_active=True), user_id, "user_id", type_name="User")
        return cls(errors=[], member=add_team_member(team, name=name, phone=phone, role=role, user=linked))


class RemoveTeamMember(BaseMutation):
    team = graphene.Field(TeamType)

    class Arguments:
        member_id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, member_id):
        member = get_node_or_error(TeamMember.objects.select_related("team__area"), member_id, "member_id")
        team = member.team
        if not access.can_manage_team(current_user(info), team):
            raise PermissionDenied()
        remove_team_member(member)
        return cls(errors=[], team=team)


class OfferTaskToTeam(BaseMutation):
    """Staff offer a task to a team: its leader is asked (push) how many people it sends."""

    offer = graphene.Field(OfferType)

    class Arguments:
        task_id = graphene.ID(required=True)
        team_id = graphene.ID(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, team_id):
        user = current_user(info)
        task = managed_task(info, task_id)
        team = get_node_or_error(access.visible_teams(user).select_related("area", "leader"), team_id, "team_id",
                                 type_name="Team")
        return cls(errors=[], offer=offer_task_to_team(task, team, by=user))


class RespondToTeamOffer(BaseMutation):
    """The leader accepts for `people` (1 to the team's size) or declines. More people than
    places left: NOT_ENOUGH_PLACES (nothing changes; answer again with fewer); none left: LATE."""

    offer = graphene.Field(OfferType)
    outcome = graphene.Field(AnswerOutcomeEnum)
    assignment = graphene.Field(TaskAssignmentType)

    class Arguments:
        offer_id = graphene.ID(required=True)
        accept = graphene.Boolean(required=True)
        people = graphene.Int(description="Required to accept.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, offer_id, accept, people=None):
        user = current_user(info)
        offer = get_node_or_error(Offer.objects.select_related("task__area", "team", "user"), offer_id, "offer_id")
        if offer.user_id != user.pk:
            raise PermissionDenied("This offer was made to someone else.")
        answer = respond_to_team_offer(offer, accept=accept, people=people)
        return cls(errors=[], offer=answer.offer, outcome=answer.outcome.value, assignment=answer.assignment)
