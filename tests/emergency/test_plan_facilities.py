"""Plans open and close facilities (FACILITIES), and alerts name the shelters to go to — in
the plan's ALERT and in issueAlert — in the push and the SMS residents get."""

import pytest

from emergency.models import PlanStep
from emergency.plans import save_plan_version
from emergency.switching import switch_mode
from notifications.models import Notification, SmsMessage
from resources.facilities import check_in
from resources.models import Facility
from tests.operations import operation
from tests.resources.conftest import shelter

from .emergency_support import (  # noqa: F401
    ALERT_PARAMS,
    _emergency_isolation,
    gid,
    resident,
    run_jobs,
)

pytestmark = pytest.mark.django_db

SAVE = operation("emergency/SaveResponsePlan")
ISSUE = operation("emergency/IssueAlert")

INPUT = {"categories": ["MET"], "event": "暴雨", "urgency": "IMMEDIATE", "severity": "SEVERE", "certainty": "LIKELY",
         "headline": "暴雨红色预警", "instruction": "请转移到避难场所"}


def test_entering_emergency_opens_the_shelters_and_the_alert_names_them(world):
    school = shelter(world.com_a, "a-school", open_=False, name="甲小学", address="学院路1号")
    water = shelter(world.grid_a1, "a-water", kind="WATER", capacity=0, open_=False, name="供水点")
    shelter(world.com_b, "b-school", open_=False, name="乙小学")
    person = resident(world.grid_a1, "王", app=False)
    save_plan_version(world.com_a, "EMERGENCY", name="暴雨预案", by=world.admin_a, actions=[
        {"type": "FACILITIES", "params": {"status": "OPEN", "kinds": ["SHELTER", "WATER"]}},
        {"type": "ALERT", "params": {**ALERT_PARAMS, "shelter_codes": ["a-school"]}},
    ])
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a)
    run_jobs()
    assert set(Facility.objects.filter(status="OPEN").values_list("code", flat=True)) == {"a-school", "a-water"}
    step = PlanStep.objects.get(action="FACILITIES")
    assert step.status == "DONE" and step.result["facilities"] == ["a-school", "a-water"]
    sms = SmsMessage.objects.get(purpose="alert", phone=str(person.phone))
    assert "避难场所：甲小学（学院路1号）" in sms.body
    assert school.pk in [f.pk for f in PlanStep.objects.get(action="ALERT").alert.shelters.all()]
    assert water.kind == "WATER"


def test_leaving_closes_them_but_not_a_shelter_with_people_inside(world):
    full = shelter(world.com_a, "a-school", name="甲小学")
    empty = shelter(world.com_a, "a-gym", name="甲体育馆")
    check_in(full, walk_ins=["过路人"], by=None)
    save_plan_version(world.com_a, "RECOVERY", name="恢复预案", by=world.admin_a,
                      actions=[{"type": "FACILITIES", "params": {"status": "CLOSED"}}])
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a)
    switch_mode(world.com_a, "RECOVERY", by=world.admin_a)
    run_jobs()
    step = PlanStep.objects.get(action="FACILITIES")
    assert step.result == {"status": "CLOSED", "facilities": ["a-gym"], "skipped": ["a-school"]}
    assert (Facility.objects.get(pk=full.pk).status, Facility.objects.get(pk=empty.pk).status) == ("OPEN", "CLOSED")


def test_a_drill_only_says_which_facilities_it_would_open(world):
    shelter(world.com_a, "a-school", open_=False)
    save_plan_version(world.com_a, "EMERGENCY", name="预案", by=world.admin_a,
                      actions=[{"type": "FACILITIES", "params": {"status": "OPEN"}}])
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a, is_drill=True)
    run_jobs()
    assert PlanStep.objects.get().result == {"drill": True, "would": ["a-school"], "status": "OPEN"}
    assert Facility.objects.get().status == "CLOSED"


@pytest.mark.parametrize("params, field", [
    ({"status": "AJAR"}, "actions.0.params.status"),
    ({"status": "OPEN", "codes": ["nowhere"]}, "actions.0.params.codes"),
    ({"status": "OPEN", "kinds": ["BUNKER"]}, "actions.0.params.kinds"),
    ({"status": "OPEN", "when": "now"}, "actions.0.params.when"),
])
def test_bad_facility_params_are_typed_errors(world, gql, params, field):
    result = gql.data(SAVE, {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "name": "预案",
                             "actions": [{"type": "FACILITIES", "params": params}]}, user=world.admin_a)["saveResponsePlan"]
    assert result["errors"][0]["field"] == field and result["errors"][0]["code"] == "INVALID_PLAN_ACTION"


def test_an_alert_names_shelters_over_the_api_in_both_languages(world, gql):
    school = shelter(world.com_a, "a-school", name="甲小学", name_en="Jia Primary School", address="学院路1号")
    english = resident(world.grid_a1, "Tom", app=True, language="en")
    chinese = resident(world.grid_a1, "王", app=True)
    issued = gql.data(ISSUE, {"areaId": gid("Area", world.com_a), "input": {**INPUT, "headlineEn": "Red rainstorm warning",
                                                                              "instructionEn": "Go to a shelter"},
                              "shelterIds": [gid("Facility", school)]}, user=world.admin_a)["issueAlert"]
    assert issued["errors"] == [] and issued["alert"]["shelters"][0]["name"] == "甲小学"
    run_jobs()
    assert "避难场所：甲小学（学院路1号）。" in Notification.objects.get(user=chinese.user, kind="alert").body
    assert "Shelters: Jia Primary School." in Notification.objects.get(user=english.user, kind="alert").body
    water = shelter(world.com_a, "a-water", kind="WATER", capacity=0, name="供水点")
    refused = gql.data(ISSUE, {"areaId": gid("Area", world.com_a), "input": INPUT, "shelterIds": [gid("Facility", water)]},
                       user=world.admin_a)["issueAlert"]
    assert refused["errors"][0]["field"] == "shelterIds"
