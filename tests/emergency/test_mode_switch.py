"""Modes: inheritance down the tree, the legal moves, who may switch, and what a switch
records (who, when, why, drill, the plan version that ran)."""

import pytest
from django.core.exceptions import ValidationError

from community.models import Area, Mode, ModeSwitch
from community.modes import MODE_TRANSITIONS, check_transition
from emergency.models import PlanRun
from emergency.plans import save_plan_version
from emergency.switching import switch_mode
from tests.operations import operation

from .emergency_support import _emergency_isolation, gid  # noqa: F401

pytestmark = pytest.mark.django_db
SWITCH = operation("community/SwitchAreaMode")


def fresh(area):
    return Area.objects.get(pk=area.pk)


def test_a_mode_set_on_a_district_applies_to_every_grid_below_it(world):
    switch_mode(world.sub_a, Mode.STANDBY, by=world.commander)
    assert fresh(world.grid_a1).effective_mode() == Mode.STANDBY
    assert fresh(world.grid_b1).effective_mode() == Mode.NORMAL


def test_the_most_severe_of_own_and_ancestors_modes_wins(world):
    switch_mode(world.grid_a1, Mode.EMERGENCY, by=world.admin_a)
    switch_mode(world.sub_a, Mode.STANDBY, by=world.commander)
    assert fresh(world.grid_a1).effective_mode() == Mode.EMERGENCY
    assert fresh(world.grid_a2).effective_mode() == Mode.STANDBY
    switch_mode(world.district, Mode.EMERGENCY, by=world.commander)
    assert fresh(world.grid_b2).effective_mode() == Mode.EMERGENCY


def test_recovery_is_less_severe_than_standby(world):
    switch_mode(world.district, Mode.STANDBY, by=world.commander)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)
    assert fresh(world.grid_a1).effective_mode() == Mode.STANDBY


@pytest.mark.parametrize("start, target", [(f, t) for f in Mode.values for t in MODE_TRANSITIONS[f]])
def test_every_listed_move_is_legal(start, target):
    check_transition(start, target)


def test_an_emergency_ends_through_recovery_not_straight_to_normal(world):
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    with pytest.raises(ValidationError) as caught:
        switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a, reason="结束")
    assert caught.value.error_dict["mode"][0].code == "mode_transition_not_allowed"
    assert fresh(world.com_a).mode == Mode.EMERGENCY and ModeSwitch.objects.count() == 1


def test_skipping_recovery_needs_the_explicit_flag_and_a_reason(world):
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    with pytest.raises(ValidationError):
        switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a, skip_recovery=True)
    switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a, skip_recovery=True, reason="误报")
    assert fresh(world.com_a).mode == Mode.NORMAL


def test_nothing_to_recover_from_in_normal(world):
    with pytest.raises(ValidationError):
        switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)


def test_switching_to_the_same_mode_again_is_recorded_but_runs_no_plan(world):
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    again = switch_mode(world.com_a, Mode.EMERGENCY, by=world.commander, reason="再次确认")
    assert (again.from_mode, again.to_mode, again.switched_by) == (Mode.EMERGENCY, Mode.EMERGENCY, world.commander)
    assert ModeSwitch.objects.count() == 2 and PlanRun.objects.count() == 1


def test_a_switch_records_who_when_why_drill_and_the_plan_version_that_ran(world):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝预案", actions=[], by=world.admin_a)
    plan_v2 = save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝预案", actions=[], by=world.admin_a)
    switch = switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, reason="暴雨红色预警", is_drill=True)
    assert (switch.switched_by, switch.reason, switch.is_drill) == (world.admin_a, "暴雨红色预警", True)
    assert switch.switched_at is not None
    assert (switch.plan_run.plan, switch.plan_run.plan_version, switch.plan_run.is_drill) == (plan_v2, 2, True)


def test_a_switch_over_the_api_returns_its_plan_run(world, gql):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝预案", actions=[], by=world.admin_a)
    result = gql.data(SWITCH, {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "reason": "内涝"}, user=world.admin_a)
    run = result["switchAreaMode"]["switch"]["planRun"]
    assert run["planVersion"] == 1 and run["plan"]["name"] == "内涝预案"


def test_an_emergency_ending_without_recovery_over_the_api_is_a_typed_error(world, gql):
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    result = gql.data(SWITCH, {"areaId": gid("Area", world.com_a), "mode": "NORMAL"}, user=world.admin_a)["switchAreaMode"]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("mode", "MODE_TRANSITION_NOT_ALLOWED")]
    ok = gql.data(SWITCH, {"areaId": gid("Area", world.com_a), "mode": "NORMAL", "reason": "误报", "skipRecovery": True},
                  user=world.admin_a)["switchAreaMode"]
    assert ok["errors"] == [] and ok["area"]["mode"] == "NORMAL"


@pytest.mark.parametrize("who, area", [("worker_a1", "com_a"), ("admin_b", "com_a"), ("resident", "grid_a1"),
                                       ("admin_a", "sub_a")])
def test_unentitled_switch_is_refused_and_nothing_changes(world, gql, who, area):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[], by=world.admin_a)
    status, body = gql(SWITCH, {"areaId": gid("Area", getattr(world, area)), "mode": "EMERGENCY"}, user=getattr(world, who))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not ModeSwitch.objects.exists() and not PlanRun.objects.exists()
    assert not Area.objects.exclude(mode=Mode.NORMAL).exists()
