"""Emergency teams through the API: staff keep the roster, the leader reports duty; a task is
offered to a team and its leader accepts for a number of people — places claimed at once and
exactly once; too many is refused and changes nothing; the wrong person cannot answer."""

import pytest

from tests.emergency.emergency_support import gid
from tests.operations import operation
from volunteers.models import Offer, Task, TaskAssignment, Team
from volunteers.services import (
    TeamSpec,
    add_team_member,
    offer_task_to_team,
    save_team,
    withdraw_from_task,
)

from .conftest import new_task, new_user

pytestmark = pytest.mark.django_db

SAVE = operation("volunteers/SaveTeam")
MEMBER = operation("volunteers/AddTeamMember")
REMOVE_MEMBER = operation("volunteers/RemoveTeamMember")
DUTY = operation("volunteers/SetTeamDutyStatus")
TEAMS = operation("volunteers/Teams")
OFFER = operation("tasks/OfferTaskToTeam")
RESPOND = operation("tasks/RespondToTeamOffer")
MY_OFFERS = operation("tasks/MyOffers")


@pytest.fixture
def rescue(world) -> Team:
    leader = new_user("张队长")
    team = save_team(TeamSpec(name="蓝天救援队", kind="RESCUE", leader=leader, skills=["first_aid"]), area=world.com_a, by=None)
    for name in ("队员一", "队员二", "队员三", "队员四"):
        add_team_member(team, name=name, phone="+8613600000001" if name == "队员一" else None)
    return team


def test_staff_create_a_team_and_keep_its_roster(world, gql):
    leader = new_user("李队长")
    made = gql.data(SAVE, {"input": {"areaId": gid("Area", world.com_a), "name": "物业应急小组", "kind": "PROPERTY",
                                     "leaderId": gid("User", leader.pk), "skills": ["first_aid"]}, "key": "t1"},
                    user=world.admin_a)["saveTeam"]
    assert made["errors"] == [] and made["team"]["leaderName"] == "李队长" and made["team"]["size"] == 1
    team_id = made["team"]["id"]
    added = gql.data(MEMBER, {"teamId": team_id, "name": "王师傅", "phone": "13600000002", "role": "电工"},
                     user=world.admin_a)["addTeamMember"]
    assert added["member"]["phone"] == "+8613600000002" and added["member"]["hasAccount"] is False
    bad = gql.data(MEMBER, {"teamId": team_id, "name": "", "phone": "12"}, user=world.admin_a)["addTeamMember"]
    assert {e["field"] for e in bad["errors"]} == {"name", "phone"}
    removed = gql.data(REMOVE_MEMBER, {"memberId": added["member"]["id"]}, user=world.admin_a)["removeTeamMember"]
    assert removed["team"]["members"] == []
    status, body = gql(SAVE, {"input": {"areaId": gid("Area", world.com_a), "name": "x", "kind": "MILITIA",
                                        "leaderId": gid("User", leader.pk)}}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and Team.objects.count() == 1


def test_the_leader_sees_their_team_and_reports_its_duty_others_cannot(world, gql, rescue):
    mine = gql.data(TEAMS, {}, user=rescue.leader)["teams"]["edges"]
    assert [(e["node"]["name"], e["node"]["isMine"], e["node"]["size"]) for e in mine] == [("蓝天救援队", True, 5)]
    assert mine[0]["node"]["members"][0]["phone"] == "+8613600000001"  # the leader sees the roster in full
    staff_view = gql.data(TEAMS, {"areaId": gid("Area", world.com_a)}, user=world.commander)["teams"]["edges"]
    assert staff_view[0]["node"]["members"][0]["phone"] == "+86136****0001"  # commanders: masked
    assert gql.data(TEAMS, {}, user=world.admin_b)["teams"]["totalCount"] == 0
    done = gql.data(DUTY, {"teamId": gid("Team", rescue.pk), "dutyStatus": "OFF_DUTY"}, user=rescue.leader)
    assert done["setTeamDutyStatus"]["team"]["dutyStatus"] == "OFF_DUTY"
    status, body = gql(DUTY, {"teamId": gid("Team", rescue.pk), "dutyStatus": "ON_DUTY"}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert Team.objects.get().duty_status == "OFF_DUTY"


def test_a_leader_accepts_a_task_for_four_people_who_take_four_places(world, gql, rescue):
    task = new_task(world.grid_a1, title="转移低洼住户", headcount=6, dispatch=False)
    offered = gql.data(OFFER, {"taskId": gid("Task", task), "teamId": gid("Team", rescue.pk), "key": "o1"},
                       user=world.admin_a)["offerTaskToTeam"]
    assert offered["errors"] == [] and offered["offer"]["pool"] == "TEAM" and offered["offer"]["team"]["name"] == "蓝天救援队"
    assert rescue.leader.notifications.get(kind="task.team_offer").body.startswith("蓝天救援队：甲一网格的任务")
    mine = gql.data(MY_OFFERS, {}, user=rescue.leader)["myOffers"]["edges"]
    assert len(mine) == 1
    answer = gql.data(RESPOND, {"offerId": offered["offer"]["id"], "accept": True, "people": 4, "key": "a1"},
                      user=rescue.leader)["respondToTeamOffer"]
    assert answer["outcome"] == "ACCEPTED" and answer["offer"]["people"] == 4
    assert answer["assignment"]["people"] == 4 and answer["assignment"]["team"]["dutyStatus"] == "DEPLOYED"
    assert answer["assignment"]["task"]["filledCount"] == 4
    replay = gql.data(RESPOND, {"offerId": offered["offer"]["id"], "accept": True, "people": 4, "key": "a1"},
                      user=rescue.leader)["respondToTeamOffer"]
    assert replay["assignment"]["id"] == answer["assignment"]["id"] and Task.objects.get().filled_count == 4


def test_accepting_for_more_people_than_places_left_is_refused_and_changes_nothing(world, gql, rescue):
    task = new_task(world.grid_a1, title="转移低洼住户", headcount=3, dispatch=False)
    offer = offer_task_to_team(task, rescue, by=world.admin_a)
    too_many = gql.data(RESPOND, {"offerId": gid("Offer", offer.pk), "accept": True, "people": 4},
                        user=rescue.leader)["respondToTeamOffer"]
    assert too_many["errors"][0]["code"] == "NOT_ENOUGH_PLACES" and "Only 3 places" in too_many["errors"][0]["message"]
    assert (Offer.objects.get().status, Task.objects.get().filled_count, TaskAssignment.objects.count()) == ("PENDING", 0, 0)
    beyond_team = gql.data(RESPOND, {"offerId": gid("Offer", offer.pk), "accept": True, "people": 9},
                           user=rescue.leader)["respondToTeamOffer"]
    assert beyond_team["errors"][0]["code"] == "INVALID_PEOPLE"
    fitting = gql.data(RESPOND, {"offerId": gid("Offer", offer.pk), "accept": True, "people": 3},
                       user=rescue.leader)["respondToTeamOffer"]
    assert fitting["outcome"] == "ACCEPTED" and Task.objects.get().status == "STAFFED"


def test_only_the_leader_answers_and_a_team_is_offered_a_task_once(world, gql, rescue):
    task = new_task(world.grid_a1, title="转移低洼住户", headcount=6, dispatch=False)
    offer = offer_task_to_team(task, rescue, by=world.admin_a)
    status, body = gql(RESPOND, {"offerId": gid("Offer", offer.pk), "accept": True, "people": 2}, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and Offer.objects.get().status == "PENDING"
    again = gql.data(OFFER, {"taskId": gid("Task", task), "teamId": gid("Team", rescue.pk)}, user=world.admin_a)
    assert again["offerTaskToTeam"]["errors"][0]["code"] == "ALREADY_OFFERED" and Offer.objects.count() == 1
    status, body = gql(OFFER, {"taskId": gid("Task", task), "teamId": gid("Team", rescue.pk)}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_team_that_withdraws_frees_all_its_places(world, rescue):
    from volunteers.services import respond_to_team_offer

    task = new_task(world.grid_a1, title="转移低洼住户", headcount=4, dispatch=False)
    answer = respond_to_team_offer(offer_task_to_team(task, rescue, by=world.admin_a), accept=True, people=4)
    assert Task.objects.get().status == "STAFFED"
    withdraw_from_task(answer.assignment, reason="另有任务")
    task.refresh_from_db()
    assert (task.filled_count, task.status) == (0, "OPEN")
