"""A real emergency ends cleanly (issue 16, finding 3): entering RECOVERY or NORMAL winds
down what the footing started — tasks nobody holds cancelled with a reason, held ones left
running and listed, a resident's call for help never dropped, alerts ended with an all-clear,
safety checks closed with their final counts — the commander closes the rest in bulk with
closeTasks, and two calls for help from one flat make one task for two people."""

import datetime as dt

import pytest
from django.utils import timezone

from community.models import Household, Mode
from emergency.models import Alert, SafetyCheck, SafetyStatus, WindDown
from emergency.plans import save_plan_version
from emergency.safety import start_safety_check
from emergency.safety_answers import answer_safety_check, request_welfare_checks
from emergency.switching import switch_mode
from tests.operations import operation
from tests.volunteers.conftest import make_volunteer, new_user
from volunteers.models import Offer, Task, TaskAssignment, TaskEvent
from volunteers.services import add_person

from .emergency_support import (  # noqa: F401
    ALERT_PARAMS,
    _emergency_isolation,
    gid,
    resident,
    run_jobs,
)

pytestmark = pytest.mark.django_db
SWITCH = operation("community/SwitchAreaMode")
WIND_DOWNS = operation("emergency/WindDowns")
CLOSE = operation("emergency/CloseTasks")

PLAN = [
    {"type": "ALERT", "params": ALERT_PARAMS},
    {"type": "SAFETY_CHECK", "params": {"title": "暴雨报平安", "welfare_after_minutes": 30}},
    {"type": "CREATE_TASKS", "params": {"target": "VULNERABLE_RESIDENTS", "title": "探访独居老人"}},
]


def row_of(person) -> SafetyStatus:
    return SafetyStatus.objects.select_related("safety_check", "resident", "grid").get(resident=person)


@pytest.fixture
def emergency(world):
    """com_a in EMERGENCY: two elderly residents living alone (a visit task each, both silent:
    welfare visits), a resident who asked for help; one visit task has a volunteer on it."""
    resident(world.grid_a1, "独居老人甲", elderly_living_alone=True)
    resident(world.grid_a2, "独居老人乙", elderly_living_alone=True)
    asking = resident(world.grid_a1, "求助居民", app=True)
    save_plan_version(world.com_a, Mode.EMERGENCY, name="暴雨应急预案", actions=PLAN, by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, reason="暴雨")
    run_jobs()
    answer_safety_check(row_of(asking), "NEED_HELP", by=asking.user, channel="APP", note="家里进水")
    check = SafetyCheck.objects.get()
    assert request_welfare_checks(now=check.started_at + dt.timedelta(minutes=31)) == 2
    held = Task.objects.filter(source="PLAN").order_by("pk").first()
    add_person(held, make_volunteer(new_user("老王"), world.grid_a1), by=world.worker_a1)
    return {"held": held, "help": Task.objects.get(priority="LIFE_SAFETY"), "check": check,
            "welfare": list(Task.objects.filter(source="SAFETY_CHECK", priority="URGENT")),
            "unheld": Task.objects.filter(source="PLAN").exclude(pk=held.pk).get()}


def status(task: Task) -> str:
    return Task.objects.get(pk=task.pk).status


def test_recovery_cancels_what_nobody_holds_and_keeps_people_first(world, gql, emergency):
    result = gql.data(SWITCH, {"areaId": gid("Area", world.com_a), "mode": "RECOVERY", "reason": "雨停"},
                      user=world.admin_a)["switchAreaMode"]
    assert result["windDown"]["cause"] == "RECOVERY" and result["windDown"]["status"] == "PENDING"
    run_jobs()
    unheld = Task.objects.get(pk=emergency["unheld"].pk)
    assert unheld.status == "CANCELLED" and unheld.status_reason == "区域转入恢复，未有人承担的任务取消。"
    assert status(emergency["held"]) == "STAFFED"
    help_task = Task.objects.get(pk=emergency["help"].pk)
    assert help_task.status != "CANCELLED" and help_task.auto_dispatch  # a call for help keeps looking for people
    assert all(status(t) not in ("CANCELLED", "DONE") for t in emergency["welfare"])  # the silent are still sought
    check = SafetyCheck.objects.get(pk=emergency["check"].pk)
    assert check.status == "CLOSED" and check.final_counts == {
        "total": 3, "safe": 0, "need_help": 1, "unanswered": 2, "vulnerable": 2, "vulnerable_accounted": 0,
        "unreachable": 0, "pushed": 1, "acknowledged": 0, "texted": 2, "called": 0, "reached": 1}
    cancel = Alert.objects.get(msg_type="Cancel")
    assert cancel.headline == "台风预警解除" and cancel.references.msg_type == "Alert"
    summary = gql.data(WIND_DOWNS, {"areaId": gid("Area", world.com_a)}, user=world.admin_a)["windDowns"]["edges"][0]["node"]
    assert summary["closed"]["tasksCancelled"] == 1 and summary["closed"]["alertsCancelled"] == 1
    whys = {r["task"]["id"]: r["why"] for r in summary["stillRunning"]}
    assert whys == {gid("Task", emergency["held"]): "STAFFED", gid("Task", emergency["help"]): "HELP_REQUEST",
                    **{gid("Task", t): "WELFARE_VISIT" for t in emergency["welfare"]}}
    assert all(r["detail"] for r in summary["stillRunning"])


def test_normal_then_cancels_the_welfare_visits_but_never_a_call_for_help(world, emergency):
    switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)
    run_jobs()
    switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a)
    run_jobs()
    assert all(status(t) == "CANCELLED" for t in emergency["welfare"])
    assert status(emergency["help"]) not in ("CANCELLED", "DONE")
    last = WindDown.objects.get(cause="NORMAL")
    assert {k["why"] for k in last.kept} == {"STAFFED", "HELP_REQUEST"}
    # The welfare visits stop looking for people: no offer of theirs is open any more.
    assert not Offer.objects.filter(task__in=emergency["welfare"], status="PENDING").exists()


def test_a_help_request_whose_resident_is_safe_now_is_cancelled(world, emergency):
    asking = SafetyStatus.objects.get(need_help_task_id=emergency["help"].pk)
    answer_safety_check(SafetyStatus.objects.select_related("safety_check", "resident", "grid").get(pk=asking.pk), "SAFE",
                        by=None, channel="STAFF")
    switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)
    run_jobs()
    assert status(emergency["help"]) == "CANCELLED"


def test_an_alert_nobody_received_is_expired_not_cancelled(world):
    save_plan_version(world.com_a, Mode.STANDBY, name="预警预案", actions=[PLAN[0]], by=world.admin_a)
    switch_mode(world.com_a, Mode.STANDBY, by=world.admin_a)
    run_jobs()  # no resident: the alert reached nobody
    switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a)
    run_jobs()
    alert = Alert.objects.get()
    assert not alert.is_active() and not Alert.objects.filter(msg_type="Cancel").exists()
    assert WindDown.objects.get().fanout_counts["alerts_expired"] == 1


def test_a_wind_down_re_driven_changes_nothing_twice(world, emergency):
    switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)
    run_jobs()
    wind_down = WindDown.objects.get()
    counts = dict(wind_down.fanout_counts)
    WindDown.objects.filter(pk=wind_down.pk).update(fanout_status="RUNNING", fanout_phase="", fanout_cursor=0)
    run_jobs()
    assert WindDown.objects.get().fanout_counts == counts and Alert.objects.filter(msg_type="Cancel").count() == 1


# --- closeTasks -------------------------------------------------------------------------------------
def test_the_commander_closes_the_rest_in_bulk(world, gql, emergency):
    switch_mode(world.com_a, Mode.RECOVERY, by=world.admin_a)
    run_jobs()
    wind_down = gid("WindDown", WindDown.objects.get())
    variables = {"areaId": gid("Area", world.com_a), "filter": {"windDownId": wind_down}, "reason": "恢复完毕",
                 "dryRun": True}
    dry = gql.data(CLOSE, variables, user=world.commander)["closeTasks"]
    assert (dry["dryRun"], dry["matched"], dry["closed"], dry["cancelled"]) == (True, 4, 1, 3)
    assert Task.objects.filter(status__in=["DONE", "CANCELLED"]).count() == 1  # nothing changed: the dry run counts
    done = gql.data(CLOSE, {**variables, "dryRun": False, "key": "close-1"}, user=world.commander)["closeTasks"]
    assert (done["closed"], done["cancelled"], done["remaining"], len(done["taskIds"])) == (1, 3, 0, 4)
    assert status(emergency["held"]) == "DONE" and status(emergency["help"]) == "CANCELLED"
    assert Task.objects.get(pk=emergency["help"].pk).status_reason == "恢复完毕"
    assert TaskAssignment.objects.get(task=emergency["held"]).status in ("RELEASED", "COMPLETED")
    replay = gql.data(CLOSE, {**variables, "dryRun": False, "key": "close-1"}, user=world.commander)["closeTasks"]
    assert replay == done  # the same key: the first answer
    again = gql.data(CLOSE, {**variables, "dryRun": False}, user=world.commander)["closeTasks"]
    assert (again["matched"], again["closed"], again["cancelled"]) == (0, 0, 0)


def test_close_tasks_filters_by_priority_and_status(world, gql, emergency):
    variables = {"areaId": gid("Area", world.com_a), "filter": {"priorities": ["LIFE_SAFETY"]}}
    result = gql.data(CLOSE, variables, user=world.admin_a)["closeTasks"]
    assert result["cancelled"] == 1 and result["taskIds"] == [gid("Task", emergency["help"])]
    assert status(emergency["unheld"]) not in ("CANCELLED", "DONE")
    staffed = gql.data(CLOSE, {"areaId": gid("Area", world.com_a), "filter": {"statuses": ["STAFFED"]}},
                       user=world.admin_a)["closeTasks"]
    assert staffed["closed"] == 1 and status(emergency["held"]) == "DONE"


def test_a_grid_worker_closes_only_their_grid(world, gql, emergency):
    mine = gql.data(CLOSE, {"areaId": gid("Area", world.grid_a1), "dryRun": True}, user=world.worker_a1)["closeTasks"]
    assert mine["matched"] == Task.objects.filter(area=world.grid_a1).exclude(status__in=["DONE", "CANCELLED"]).count()
    before = list(Task.objects.order_by("pk").values_list("pk", "status", "version"))
    for user, area in ((world.worker_a1, world.com_a), (world.worker_b1, world.grid_a1), (world.resident, world.grid_a1)):
        status_code, body = gql(CLOSE, {"areaId": gid("Area", area)}, user=user)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert list(Task.objects.order_by("pk").values_list("pk", "status", "version")) == before


# --- one call for help per door -----------------------------------------------------------------------
def test_two_calls_for_help_from_one_flat_make_one_task_for_two_people(world):
    home = Household.objects.create(grid=world.grid_a1, label="3幢201", address="甲社区3幢201")
    first = resident(world.grid_a1, "父亲", household=home, address="甲社区3幢201")
    second = resident(world.grid_a1, "母亲", household=home, address="甲社区3幢201")
    same_door = resident(world.grid_a1, "租客", address="甲社区3幢201")
    elsewhere = resident(world.grid_a1, "邻居", address="甲社区3幢202")
    start_safety_check(world.com_a, by=world.admin_a)
    run_jobs()
    for person in (first, second, same_door, elsewhere):
        answer_safety_check(row_of(person), "NEED_HELP", by=None, channel="STAFF", note=f"{person.display_name}被困")
    tasks = Task.objects.filter(priority="LIFE_SAFETY").order_by("pk")
    assert tasks.count() == 2
    shared = tasks[0]
    assert shared.people_to_help == 3 and {row_of(p).need_help_task_id for p in (first, second, same_door)} == {shared.pk}
    joined = TaskEvent.objects.filter(task=shared, kind="HELP_JOINED").order_by("pk")
    assert [e.data["peopleToHelp"] for e in joined] == [2, 3] and joined[0].data["note"] == "母亲被困"
    assert row_of(elsewhere).need_help_task_id == tasks[1].pk


def test_once_the_first_call_is_over_a_new_one_makes_a_new_task(world):
    home = Household.objects.create(grid=world.grid_a1, label="5幢1", address="甲社区5幢1")
    first = resident(world.grid_a1, "甲", household=home)
    second = resident(world.grid_a1, "乙", household=home)
    start_safety_check(world.com_a, by=world.admin_a)
    run_jobs()
    answer_safety_check(row_of(first), "NEED_HELP", by=None, channel="STAFF")
    Task.objects.filter(priority="LIFE_SAFETY").update(status="DONE", closed_at=timezone.now())
    answer_safety_check(row_of(second), "NEED_HELP", by=None, channel="STAFF")
    assert Task.objects.filter(priority="LIFE_SAFETY").count() == 2


def test_a_drill_call_for_help_never_joins_a_real_one(world):
    home = Household.objects.create(grid=world.grid_a1, label="7幢1", address="甲社区7幢1")
    real_one, drill_one = resident(world.grid_a1, "甲", household=home), resident(world.grid_a1, "乙", household=home)
    real_check = start_safety_check(world.com_a, by=world.admin_a)
    drill_check = start_safety_check(world.com_a, by=world.admin_a, is_drill=True)
    run_jobs()
    answer_safety_check(SafetyStatus.objects.select_related("safety_check", "resident", "grid").get(
        safety_check=real_check, resident=real_one), "NEED_HELP", by=None, channel="STAFF")
    answer_safety_check(SafetyStatus.objects.select_related("safety_check", "resident", "grid").get(
        safety_check=drill_check, resident=drill_one), "NEED_HELP", by=None, channel="STAFF")
    assert Task.objects.filter(priority="LIFE_SAFETY", is_drill=False).get().people_to_help == 1
    assert Task.objects.filter(priority="LIFE_SAFETY", is_drill=True).count() == 1
