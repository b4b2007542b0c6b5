"""Declaring a parent area runs its descendants' own plans too (issue 16, finding 4): each
community (or grid) with its own plan for the mode gets a run of it, once, recorded per area
and tied to the switch; what the parent's plan already does for everyone (alerting, asking,
calling in) is not done twice."""

import pytest

from community.models import Mode
from emergency.models import Alert, PlanRun, PlanStep, SafetyCheck
from emergency.plans import save_plan_version
from emergency.switching import switch_mode
from tests.operations import operation
from volunteers.models import AreaDispatchOverride, Task

from .emergency_support import (  # noqa: F401
    ALERT_PARAMS,
    _emergency_isolation,
    gid,
    resident,
    run_jobs,
)

pytestmark = pytest.mark.django_db
SWITCH = operation("community/SwitchAreaMode")
RUNS = operation("emergency/PlanRuns")

SUBDISTRICT_PLAN = [{"type": "ALERT", "params": ALERT_PARAMS},
                    {"type": "SAFETY_CHECK", "params": {"title": "街道报平安"}}]
COMMUNITY_PLAN = [{"type": "SAFETY_CHECK", "params": {"title": "社区报平安"}},
                  {"type": "CREATE_TASKS", "params": {"target": "VULNERABLE_RESIDENTS", "title": "探访独居老人"}},
                  {"type": "SET_DISPATCH", "params": {"answer_seconds": 90}}]


@pytest.fixture
def plans(world):
    resident(world.grid_a1, "独居老人", elderly_living_alone=True)
    resident(world.grid_b1, "乙社区独居老人", elderly_living_alone=True)
    save_plan_version(world.sub_a, Mode.EMERGENCY, name="街道防汛预案", actions=SUBDISTRICT_PLAN, by=world.commander)
    save_plan_version(world.com_a, Mode.EMERGENCY, name="甲社区防汛预案", actions=COMMUNITY_PLAN, by=world.admin_a)
    save_plan_version(world.com_b, Mode.EMERGENCY, name="乙社区防汛预案", actions=COMMUNITY_PLAN, by=world.admin_b)


def test_a_subdistrict_declaring_runs_its_communities_own_plans(world, gql, plans):
    result = gql.data(SWITCH, {"areaId": gid("Area", world.sub_a), "mode": "EMERGENCY", "reason": "暴雨"},
                      user=world.commander)["switchAreaMode"]
    run = result["switch"]["planRun"]
    assert [r["area"]["id"] for r in run["descendantRuns"]] == [gid("Area", world.com_a)]  # not 乙社区: another subdistrict
    run_jobs()
    community_run = PlanRun.objects.get(area=world.com_a)
    assert community_run.parent.area == world.sub_a and community_run.plan.name == "甲社区防汛预案"
    # Its own work ran: a visit to its elderly resident living alone, its answer times.
    assert Task.objects.get().title == "探访独居老人" and Task.objects.get().area == world.grid_a1
    assert AreaDispatchOverride.objects.get().area == world.com_a
    # The subdistrict already asks everyone: the community's safety check is recorded as covered.
    assert SafetyCheck.objects.get().title == "街道报平安" and Alert.objects.count() == 1
    skipped = PlanStep.objects.get(run=community_run, action="SAFETY_CHECK")
    assert skipped.status == "SKIPPED" and "covered by step 1" in skipped.error
    runs = gql.data(RUNS, {"areaId": gid("Area", world.sub_a)}, user=world.commander)["planRuns"]["edges"]
    listed = {e["node"]["area"]["id"]: e["node"] for e in runs}
    assert listed[gid("Area", world.com_a)]["triggeredBy"]["id"] == run["id"]


def test_each_descendant_plan_runs_once(world, plans):
    switch_mode(world.sub_a, Mode.EMERGENCY, by=world.commander)
    switch_mode(world.sub_a, Mode.EMERGENCY, by=world.commander, reason="再次确认")  # re-declaring runs nothing
    run_jobs()
    assert PlanRun.objects.filter(area=world.com_a).count() == 1 and Task.objects.count() == 1


def test_a_community_already_in_the_mode_is_not_run_again(world, plans):
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    run_jobs()
    switch_mode(world.sub_a, Mode.EMERGENCY, by=world.commander)
    run_jobs()
    assert PlanRun.objects.filter(area=world.com_a).count() == 1


def test_a_community_in_a_more_severe_mode_does_not_run_its_lesser_plan(world, plans):
    save_plan_version(world.com_a, Mode.STANDBY, name="甲社区预警预案", actions=COMMUNITY_PLAN[1:2], by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    switch_mode(world.sub_a, Mode.STANDBY, by=world.commander)
    assert not PlanRun.objects.filter(area=world.com_a, mode=Mode.STANDBY).exists()


def test_a_drill_on_the_subdistrict_runs_the_communities_plans_as_drill(world, plans):
    switch_mode(world.sub_a, Mode.EMERGENCY, by=world.commander, is_drill=True)
    run_jobs()
    community_run = PlanRun.objects.get(area=world.com_a)
    assert community_run.is_drill and community_run.drill == PlanRun.objects.get(area=world.sub_a).drill
    assert not AreaDispatchOverride.objects.exists() and Task.objects.get().is_drill
    switch_mode(world.sub_a, Mode.NORMAL, by=world.commander, is_drill=True)
    run_jobs()
    assert Task.objects.get().status == "CANCELLED"  # the drill's end winds the communities' part down too


def test_leaving_the_mode_clears_what_the_descendants_plans_set(world, plans):
    switch_mode(world.sub_a, Mode.EMERGENCY, by=world.commander)
    run_jobs()
    assert AreaDispatchOverride.objects.filter(area=world.com_a).exists()
    switch_mode(world.sub_a, Mode.RECOVERY, by=world.commander)
    run_jobs()
    assert not AreaDispatchOverride.objects.exists()
    assert Task.objects.get().status == "CANCELLED"  # nobody held the visit: wound down with the subdistrict
