"""Response plans: versioned (old versions never change), validated action by action, found
from the switched area upward, run after the switch in resumable steps (alert, safety check,
mobilisation, dispatch override for the mode, predefined tasks), superseded by a newer switch."""

import pytest
from django.core.exceptions import ValidationError

from community.models import HazardPoint, Mode
from emergency.models import (
    Alert,
    ImmutableVersionError,
    Mobilisation,
    PlanRun,
    PlanStep,
    ResponsePlan,
    SafetyCheck,
)
from emergency.plans import plan_for, save_plan_version
from emergency.switching import switch_mode
from notifications.models import Notification, SmsMessage
from tests.operations import operation
from tests.volunteers.conftest import make_member, make_volunteer, new_user
from volunteers.models import AreaDispatchOverride, Task, Volunteer

from .emergency_support import (  # noqa: F401
    ALERT_PARAMS,
    _emergency_isolation,
    gid,
    resident,
    run_jobs,
)

pytestmark = pytest.mark.django_db
SAVE = operation("emergency/SaveResponsePlan")
PLANS = operation("emergency/ResponsePlans")
RUNS = operation("emergency/PlanRuns")
MINE = operation("emergency/MyMobilisations")
RESPOND = operation("emergency/RespondToMobilisation")

FULL_PLAN = [
    {"type": "ALERT", "params": ALERT_PARAMS},
    {"type": "SAFETY_CHECK", "params": {"title": "暴雨报平安", "welfare_after_minutes": 45}},
    {"type": "MOBILISE", "params": {"level": "CALL_IN", "message": "请到社区集合"}},
    {"type": "SET_DISPATCH", "params": {"answer_seconds": 90, "radius_max_m": {"URGENT": 8000}}},
    {"type": "CREATE_TASKS", "params": {"target": "HAZARD_POINTS", "title": "巡查易涝点", "hazard_kinds": ["waterlogging"]}},
    {"type": "CREATE_TASKS", "params": {"target": "VULNERABLE_RESIDENTS", "title": "探访独居老人"}},
]


def hazard(grid, kind="waterlogging"):
    from django.utils import timezone

    point = HazardPoint(name="下穿隧道", kind=kind, grid=grid, next_inspection_due=timezone.now())
    point.set_location(grid.center_lat, grid.center_lng)
    point.save()
    return point


def test_editing_a_plan_writes_a_new_version_and_the_old_one_never_changes(world):
    v1 = save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝预案", actions=FULL_PLAN[:1], by=world.admin_a)
    v2 = save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝预案", actions=FULL_PLAN[:2], by=world.admin_a)
    assert (v1.version, v2.version) == (1, 2)
    v1.refresh_from_db()
    assert len(v1.actions) == 1
    v1.name = "改名"
    with pytest.raises(ImmutableVersionError):
        v1.save()


def test_the_plan_comes_from_the_area_or_its_nearest_ancestor(world):
    district = save_plan_version(world.district, Mode.EMERGENCY, name="区预案", actions=[], by=world.commander)
    own = save_plan_version(world.com_a, Mode.EMERGENCY, name="社区预案", actions=[], by=world.admin_a)
    assert plan_for(world.grid_a1, Mode.EMERGENCY) == own
    assert plan_for(world.com_b, Mode.EMERGENCY) == district
    save_plan_version(world.com_a, Mode.EMERGENCY, name="社区预案", actions=[], by=world.admin_a, is_enabled=False)
    assert plan_for(world.com_a, Mode.EMERGENCY) == district  # withdrawn: the ancestor's applies
    assert plan_for(world.com_a, Mode.STANDBY) is None


def test_entering_emergency_runs_every_action_of_the_plan(world):
    grid = world.grid_a1
    resident(grid, "用App", app=True)
    old = resident(world.grid_a2, "独居老人", elderly_living_alone=True)
    hazard(grid)
    hazard(grid, kind="fire")
    volunteer = make_volunteer(area=world.com_a, contact_channel="SMS")
    member = make_member(new_user("党员"), world.com_a)
    both = make_volunteer(area=world.com_a)
    make_member(both.user, world.com_a)
    plan = save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝预案", actions=FULL_PLAN, by=world.admin_a)
    switch = switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, reason="暴雨")
    run = switch.plan_run
    assert run.plan == plan and run.steps.count() == 6 and run.status == "PENDING"  # nothing heavy in the switch
    run_jobs()
    run.refresh_from_db()
    assert run.status == "DONE" and set(run.steps.values_list("status", flat=True)) == {"DONE"}
    alert = Alert.objects.get()
    assert alert.plan_step.run == run and alert.fanout_status == "DONE"
    check = SafetyCheck.objects.get()
    assert check.welfare_after_minutes == 45 and check.statuses.count() == 2
    told = Mobilisation.objects.filter(step__run=run)
    assert set(told.values_list("user_id", flat=True)) == {volunteer.user_id, member.user_id, both.user_id}  # once each
    assert SmsMessage.objects.filter(purpose="mobilisation", expects_reply=True).count() == 3
    override = AreaDispatchOverride.objects.get(area=world.com_a)
    assert override.params == {"answer_seconds": 90, "radius_max_m": {"URGENT": 8000}}
    tasks = Task.objects.filter(source="PLAN")
    assert tasks.count() == 2 and {t.area_id for t in tasks} == {grid.pk, world.grid_a2.pk}
    assert tasks.get(area=world.grid_a2).address == old.address


def test_leaving_the_mode_clears_the_dispatch_override_the_plan_set(world):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[FULL_PLAN[3]], by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    run_jobs()
    assert AreaDispatchOverride.objects.filter(area=world.com_a).exists()
    recovery = switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)
    assert not AreaDispatchOverride.objects.filter(area=world.com_a).exists()
    assert recovery.plan_run.cleared_dispatch_override


def test_a_newer_switch_supersedes_a_run_whose_steps_have_not_started(world):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=FULL_PLAN[:4], by=world.admin_a)
    first = switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a).plan_run
    switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)
    run_jobs()
    first.refresh_from_db()
    assert first.status == "SUPERSEDED" and set(first.steps.values_list("status", flat=True)) == {"SKIPPED"}
    assert not Alert.objects.exists() and not AreaDispatchOverride.objects.exists()


def test_a_drill_plan_marks_everything_as_a_drill(world):
    resident(world.grid_a1, "无App")
    hazard(world.grid_a1)
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[FULL_PLAN[0], FULL_PLAN[1], FULL_PLAN[4]], by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, is_drill=True)
    run_jobs()
    assert Alert.objects.get().is_drill and SafetyCheck.objects.get().is_drill and Task.objects.get().is_drill
    assert all(m.is_drill and m.body.startswith("【演练】") for m in SmsMessage.objects.all())


def test_a_run_interrupted_midway_is_resumed_without_doing_anything_twice(world, settings):
    settings.EMERGENCY_FANOUT_CHUNK = settings.EMERGENCY_SAFETY_CHECK_CHUNK = 1
    for i in range(3):
        resident(world.grid_a1, f"居民{i}")
        make_volunteer(area=world.com_a, contact_channel="SMS")
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[FULL_PLAN[0], FULL_PLAN[2]], by=world.admin_a)
    run = switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a).plan_run
    from emergency.fanout import drive
    from emergency.plans import plan_run_chunk

    drive(PlanRun, run.pk, plan_run_chunk, budget=0)  # one chunk, then the "worker" dies holding no lease
    PlanRun.objects.filter(pk=run.pk).update(lease_token="dead", lease_until=None)
    run_jobs()
    assert SmsMessage.objects.filter(purpose="alert").count() == 3
    assert Mobilisation.objects.count() == 3 == SmsMessage.objects.filter(purpose="mobilisation").count()


def test_a_call_in_answered_yes_puts_the_volunteer_on_duty(world, gql):
    volunteer = make_volunteer(area=world.com_a)
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[FULL_PLAN[2]], by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    run_jobs()
    mine = gql.data(MINE, {}, user=volunteer.user)["myMobilisations"]["edges"]
    assert [e["node"]["level"] for e in mine] == ["CALL_IN"] and mine[0]["node"]["mode"] == "EMERGENCY"
    answer = gql.data(RESPOND, {"mobilisationId": mine[0]["node"]["id"], "available": True}, user=volunteer.user)
    assert answer["respondToMobilisation"]["mobilisation"]["response"] == "AVAILABLE"
    assert Volunteer.objects.get(pk=volunteer.pk).on_duty_until is not None
    status, body = gql(RESPOND, {"mobilisationId": mine[0]["node"]["id"], "available": False}, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_staff_save_and_read_plans_over_the_api(world, gql):
    variables = {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "name": "内涝预案", "actions": FULL_PLAN[:3]}
    saved = gql.data(SAVE, variables, user=world.admin_a)["saveResponsePlan"]
    assert saved["errors"] == [] and saved["plan"]["version"] == 1 and len(saved["plan"]["actions"]) == 3
    gql.data(SAVE, {**variables, "changeNote": "加上报平安"}, user=world.admin_a)
    listed = gql.data(PLANS, {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY"}, user=world.admin_a)
    assert listed["responsePlans"]["totalCount"] == 1 and listed["effectivePlan"]["version"] == 2
    history = gql.data(PLANS, {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "allVersions": True}, user=world.admin_a)
    assert history["responsePlans"]["totalCount"] == 2
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    run_jobs()
    runs = gql.data(RUNS, {"areaId": gid("Area", world.com_a)}, user=world.admin_a)["planRuns"]["edges"]
    assert runs[0]["node"]["planVersion"] == 2 and [s["status"] for s in runs[0]["node"]["steps"]] == ["DONE"] * 3


@pytest.mark.parametrize("action, field, code", [
    ({"type": "ALERT", "params": {**ALERT_PARAMS, "severity": "Apocalyptic"}}, "actions.0.params.severity", "INVALID"),
    ({"type": "ALERT", "params": {**ALERT_PARAMS, "expires_in_minutes": 1}}, "actions.0.params.expiresInMinutes", "INVALID"),
    ({"type": "SAFETY_CHECK", "params": {"welfare_after_minutes": 0}}, "actions.0.params.welfareAfterMinutes", "INVALID_PLAN_ACTION"),
    ({"type": "MOBILISE", "params": {"level": "PANIC"}}, "actions.0.params.level", "INVALID_PLAN_ACTION"),
    ({"type": "SET_DISPATCH", "params": {"answer_seconds": 5}}, "actions.0.params.answerSeconds", "INVALID_PLAN_ACTION"),
    ({"type": "SET_DISPATCH", "params": {"warp_speed": 9}}, "actions.0.params.warpSpeed", "INVALID_PLAN_ACTION"),
    ({"type": "SET_DISPATCH", "params": {"radius_max_m": {"SOON": 100}}}, "actions.0.params.radiusMaxM", "INVALID_PLAN_ACTION"),
    ({"type": "CREATE_TASKS", "params": {"target": "EVERYONE", "title": "x"}}, "actions.0.params.target", "INVALID_PLAN_ACTION"),
    ({"type": "CREATE_TASKS", "params": {"target": "HAZARD_POINTS", "title": ""}}, "actions.0.params.title", "INVALID_PLAN_ACTION"),
    ({"type": "CREATE_TASKS", "params": {"target": "HAZARD_POINTS", "title": "x", "required_skills": ["flying"]}},
     "actions.0.params.requiredSkills", "INVALID_PLAN_ACTION"),
    ({"type": "CREATE_TASKS", "params": {"target": "VULNERABLE_RESIDENTS", "title": "x", "headcount": 99}},
     "actions.0.params.headcount", "INVALID_PLAN_ACTION"),
])
def test_bad_plan_params_are_typed_errors_and_nothing_is_saved(world, gql, action, field, code):
    variables = {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "name": "预案", "actions": [action]}
    result = gql.data(SAVE, variables, user=world.admin_a)["saveResponsePlan"]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]
    assert not ResponsePlan.objects.exists()


def test_every_problem_of_a_plan_is_reported_at_once(world):
    with pytest.raises(ValidationError) as caught:
        save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", by=world.admin_a, actions=[
            {"type": "MOBILISE", "params": {"level": "X"}}, {"type": "NOPE", "params": {}}])
    assert set(caught.value.error_dict) == {"actions.0.params.level", "actions.1.type"}


@pytest.mark.parametrize("who", ["worker_a1", "admin_b", "resident"])
def test_only_plan_managers_of_the_area_save_plans(world, gql, who):
    variables = {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "name": "预案", "actions": []}
    status, body = gql(SAVE, variables, user=getattr(world, who))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not ResponsePlan.objects.exists()
    assert not PlanStep.objects.exists()


def test_english_speakers_are_called_in_in_english(world):
    english = make_volunteer(new_user("Tom", preferred_language="en"), world.com_a, contact_channel="SMS")
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[FULL_PLAN[2]], by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    run_jobs()
    sms = SmsMessage.objects.get(purpose="mobilisation", user=english.user)
    assert "is in emergency mode and needs you" in sms.body and "应急" not in sms.body
    push = Notification.objects.get(kind="mobilisation", user=english.user)
    assert push.title.startswith("Call-in:") and "emergency mode" in push.body


# --- every problem at once, on one convention of field paths (issue 16, finding 7) -----------------
def test_every_problem_of_every_action_is_listed_at_once_on_camel_case_paths(world, gql):
    actions = [
        {"type": "SAFETY_CHECK", "params": {"welfareAfterMinutes": 0, "title": "x" * 101}},
        {"type": "CREATE_TASKS", "params": {"target": "EVERYONE", "title": "", "headcount": 99, "requiredSkills": ["flying"]}},
        {"type": "SET_DISPATCH", "params": {"answer_seconds": 5, "warp_speed": 1}},
        {"type": "ALERT", "params": {**ALERT_PARAMS, "severity": "Apocalyptic", "urgency": "Whenever"}},
        {"type": "SET_DISPATCH", "params": {}},
    ]
    variables = {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "name": "预案", "actions": actions}
    errors = gql.data(SAVE, variables, user=world.admin_a)["saveResponsePlan"]["errors"]
    assert {e["field"] for e in errors} == {
        "actions.0.params.welfareAfterMinutes", "actions.0.params.title", "actions.1.params.target",
        "actions.1.params.title", "actions.1.params.headcount", "actions.1.params.requiredSkills",
        "actions.2.params.answerSeconds", "actions.2.params.warpSpeed", "actions.3.params.severity",
        "actions.3.params.urgency", "actions.4.params",
    }
    assert not ResponsePlan.objects.exists()


def test_plan_params_are_camel_case_in_and_out_as_the_rest_of_the_api(world, gql):
    actions = [{"type": "SAFETY_CHECK", "params": {"title": "报平安", "welfareAfterMinutes": 45}},
               {"type": "SET_DISPATCH", "params": {"radiusMaxM": {"URGENT": 8000}}},
               {"type": "MOBILISE", "params": {"level": "STANDBY", "include_party_members": False}}]  # snake_case still taken
    variables = {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "name": "预案", "actions": actions}
    saved = gql.data(SAVE, variables, user=world.admin_a)["saveResponsePlan"]
    assert saved["errors"] == []
    assert [a["params"] for a in saved["plan"]["actions"]] == [
        {"title": "报平安", "welfareAfterMinutes": 45}, {"radiusMaxM": {"URGENT": 8000}},
        {"level": "STANDBY", "includePartyMembers": False, "message": ""}]
    assert ResponsePlan.objects.get().actions[0]["params"] == {"title": "报平安", "welfare_after_minutes": 45}
