"""Drills are an overlay beside an area's real mode (issue 16, findings 1 and 2): nothing real
changes while a drill runs — answer times, pools, dispatch overrides, effectiveMode — the API
shows the drill beside the real mode, everything the drill creates is marked and tied to it,
and ending it winds down what it started: queued drill messages are never sent, drill tasks
stop dispatching, the drill alert and safety check end."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from community.models import Area, Mode, ModeSwitch
from emergency.mobilise import respond_to_mobilisation
from emergency.models import (
    Alert,
    Drill,
    Mobilisation,
    PlanRun,
    PlanStep,
    SafetyCheck,
    SafetyStatus,
    WindDown,
)
from emergency.plans import save_plan_version
from emergency.safety_answers import answer_safety_check
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs
from notifications.models import SmsMessage, SmsStatus
from tests.operations import operation
from tests.volunteers.conftest import make_member, make_volunteer, new_task, new_user
from volunteers.dispatch.parameters import dispatch_parameters
from volunteers.dispatch.pool import party_members_join
from volunteers.dispatch.waves import offer_next_wave
from volunteers.models import AreaDispatchOverride, Offer, Task, Volunteer
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
ACTIVE_DRILL = operation("emergency/ActiveDrill")
WIND_DOWNS = operation("emergency/WindDowns")
DRILLS = operation("emergency/Drills")

DRILL_PLAN = [
    {"type": "ALERT", "params": ALERT_PARAMS},
    {"type": "SAFETY_CHECK", "params": {"title": "演练报平安", "welfare_after_minutes": 30}},
    {"type": "MOBILISE", "params": {"level": "CALL_IN", "message": "演练集结"}},
    {"type": "SET_DISPATCH", "params": {"answer_seconds": 60}},
    {"type": "CREATE_TASKS", "params": {"target": "VULNERABLE_RESIDENTS", "title": "演练：探访独居老人"}},
]


def fresh(area: Area) -> Area:
    return Area.objects.get(pk=area.pk)


def start_drill(world, actions=DRILL_PLAN):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝应急预案", actions=actions, by=world.admin_a)
    return switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, reason="年度演练", is_drill=True)


def test_a_drill_leaves_the_real_mode_alone_and_is_shown_beside_it(world, gql):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="内涝应急预案", actions=[], by=world.admin_a)
    started = gql.data(SWITCH, {"areaId": gid("Area", world.com_a), "mode": "EMERGENCY", "isDrill": True, "reason": "演练"},
                       user=world.admin_a)["switchAreaMode"]
    assert started["errors"] == [] and started["area"]["mode"] == "NORMAL" and started["area"]["effectiveMode"] == "NORMAL"
    assert started["drill"]["mode"] == "EMERGENCY" and started["drill"]["isActive"] is True
    assert started["switch"]["isDrill"] is True and started["switch"]["planRun"]["isDrill"] is True
    assert fresh(world.com_a).mode == Mode.NORMAL and fresh(world.grid_a1).effective_mode() == Mode.NORMAL
    # A grid below sees its community's drill beside its real mode; a grid elsewhere sees none.
    grid = gql.data(ACTIVE_DRILL, {"id": gid("Area", world.grid_a1)}, user=world.worker_a1)["node"]
    assert (grid["mode"], grid["effectiveMode"], grid["activeDrill"]["mode"]) == ("NORMAL", "NORMAL", "EMERGENCY")
    assert grid["activeDrill"]["area"]["id"] == gid("Area", world.com_a) and grid["activeDrill"]["startedAt"]
    other = gql.data(ACTIVE_DRILL, {"id": gid("Area", world.grid_b1)}, user=world.worker_b1)["node"]
    assert other["activeDrill"] is None


def test_real_tasks_keep_their_answer_times_pool_and_override_during_a_drill(world):
    real = new_task(world.grid_a1, title="真实任务：搬运沙袋", priority="URGENT", dispatch=False)
    before = dispatch_parameters(real)
    start_drill(world)
    run_jobs()
    during = dispatch_parameters(real)
    assert during == before and during.mode == Mode.NORMAL  # no EMERGENCY answer times for real work
    assert not party_members_join(real, [], during.mode)  # Party members stay out of real pools
    assert not AreaDispatchOverride.objects.exists()  # the drill's SET_DISPATCH is recorded, not set
    step = PlanStep.objects.get(action="SET_DISPATCH")
    assert step.status == "DONE" and step.result["set"] is False and step.result["would_set"] == {"answer_seconds": 60}


def test_a_drill_call_in_never_puts_a_volunteer_on_duty(world):
    volunteer = make_volunteer(new_user("老张"), world.com_a)
    start_drill(world, [DRILL_PLAN[2]])
    run_jobs()
    call_in = Mobilisation.objects.get(user=volunteer.user)
    assert call_in.is_drill
    respond_to_mobilisation(call_in, True)
    assert Mobilisation.objects.get(pk=call_in.pk).response == "AVAILABLE"
    assert Volunteer.objects.get(pk=volunteer.pk).on_duty_until is None  # real dispatch does not ask them now


def test_everything_a_drill_creates_is_marked_and_tied_to_it(world):
    resident(world.grid_a1, "独居老人", elderly_living_alone=True)
    resident(world.grid_a2, "居民")
    make_volunteer(new_user("老李"), world.com_a)
    start_drill(world)
    run_jobs()
    drill = Drill.objects.get(area=world.com_a)
    assert PlanRun.objects.get().drill == drill and PlanRun.objects.get().is_drill
    assert Alert.objects.get().drill == drill and SafetyCheck.objects.get().drill == drill
    assert Task.objects.filter(is_drill=True).count() == Task.objects.count() == 1
    assert SmsMessage.objects.count() > 0 and not SmsMessage.objects.filter(is_drill=False).exists()
    assert all(body.startswith("【演练】") for body in SmsMessage.objects.values_list("body", flat=True))


def test_ending_a_drill_winds_down_everything_it_started(world, gql):
    texted = [resident(world.grid_a1, f"居民{i}") for i in range(3)]
    app_user = resident(world.grid_a1, "用App的老人", app=True, elderly_living_alone=True)
    resident(world.grid_a2, "另一位老人", elderly_living_alone=True)
    helper = make_volunteer(new_user("志愿者"), world.grid_a1, contact_channel="SMS",
                            on_duty_until=timezone.now() + dt.timedelta(hours=2))
    start_drill(world, [DRILL_PLAN[0], DRILL_PLAN[1], DRILL_PLAN[4]])
    run_pending_emergency_jobs()  # the fan-outs wrote their SMS; none has been handed to a carrier yet
    row = SafetyStatus.objects.select_related("safety_check", "resident", "grid").get(resident=app_user)
    answer_safety_check(row, "SAFE", by=app_user.user, channel="APP")  # answered in the app ...
    question = SmsMessage.objects.get(purpose="safety_check", phone=str(app_user.phone))
    assert question.status != SmsStatus.QUEUED  # ... so the queued question will never be sent
    # One drill task gets a (texted) offer, the other someone on it.
    offered, staffed = Task.objects.order_by("pk")
    offer_next_wave(offered.pk)
    assert Offer.objects.filter(task=offered, status="PENDING", user=helper.user).exists()
    add_person(staffed, make_volunteer(new_user("老王"), world.grid_a2), by=world.admin_a)
    sent_before = set(SmsMessage.objects.exclude(status=SmsStatus.QUEUED).values_list("pk", flat=True))

    ended = gql.data(SWITCH, {"areaId": gid("Area", world.com_a), "mode": "NORMAL", "isDrill": True, "reason": "演练结束"},
                     user=world.admin_a)["switchAreaMode"]
    assert ended["errors"] == [] and ended["drill"]["isActive"] is False and ended["windDown"]["cause"] == "DRILL_ENDED"
    run_jobs()  # the wind-down, then every SMS still queued handed to the carrier

    # Not one drill alert, question or offer went out after the drill ended (the notice to the
    # volunteer staff put on the task that runs on is still true, and goes).
    gone = SmsMessage.objects.exclude(pk__in=sent_before).filter(status__in=["sent", "delivered", "sending"])
    assert list(gone.values_list("purpose", flat=True)) == ["task_assignment_added"]
    assert SmsMessage.objects.filter(purpose__in=["alert", "safety_check"], status=SmsStatus.QUEUED).count() == 0
    assert not Alert.objects.get().is_active() and SafetyCheck.objects.get().status == "CLOSED"
    assert SafetyCheck.objects.get().final_counts["safe"] == 1
    offered.refresh_from_db(), staffed.refresh_from_db()
    assert offered.status == "CANCELLED" and offered.status_reason.startswith("演练结束")
    assert Offer.objects.get(task=offered).status == "WITHDRAWN"
    assert staffed.status == "STAFFED" and not staffed.auto_dispatch  # left running, asks nobody new
    # The commander's summary: what was closed, what still runs and why.
    summary = gql.data(WIND_DOWNS, {"areaId": gid("Area", world.com_a)}, user=world.admin_a)["windDowns"]["edges"][0]["node"]
    assert summary["status"] == "DONE" and summary["isDrill"] is True
    closed = summary["closed"]
    assert (closed["tasksCancelled"], closed["offersWithdrawn"], closed["alertsExpired"], closed["alertsCancelled"],
            closed["safetyChecksClosed"]) == (1, 1, 1, 0, 1)
    assert closed["messagesSuperseded"] >= len(texted) + 1  # alerts and questions never sent, and the offer
    assert [(r["task"]["id"], r["why"]) for r in summary["stillRunning"]] == [(gid("Task", staffed), "STAFFED")]
    assert summary["safetyChecksStillActive"] == 0


def test_a_drill_starts_from_another_mode_moves_by_the_table_and_can_always_end(world):
    with pytest.raises(ValidationError) as nothing_running:
        switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a, is_drill=True)
    assert nothing_running.value.error_dict["mode"][0].code == "drill_not_active"
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, is_drill=True)
    switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a, is_drill=True)  # ending needs no recovery phase
    assert not Drill.objects.filter(ended_at__isnull=True).exists()
    for mode in (Mode.STANDBY, Mode.EMERGENCY, Mode.RECOVERY):
        switch_mode(world.com_a, mode, by=world.admin_a, is_drill=True)
    assert WindDown.objects.filter(cause="RECOVERY", is_drill=True).count() == 1
    with pytest.raises(ValidationError):  # a drill starts by the same table as a real switch
        switch_mode(world.com_b, Mode.RECOVERY, by=world.admin_b, is_drill=True)
    switch_mode(world.com_b, Mode.EMERGENCY, by=world.admin_b)
    with pytest.raises(ValidationError) as same:
        switch_mode(world.com_b, Mode.EMERGENCY, by=world.admin_b, is_drill=True)
    assert same.value.error_dict["mode"][0].code == "mode_transition_not_allowed"
    assert fresh(world.com_a).mode == Mode.NORMAL and ModeSwitch.objects.filter(is_drill=True).count() == 5


def test_a_real_emergency_and_a_drill_on_one_area_never_touch_each_other(world):
    resident(world.grid_a1, "独居老人", elderly_living_alone=True)
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[DRILL_PLAN[4]], by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, is_drill=True)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, reason="真的来了")
    run_jobs()
    drill_task, real_task = Task.objects.get(is_drill=True), Task.objects.get(is_drill=False)
    assert PlanRun.objects.filter(status="SUPERSEDED").count() == 0  # neither run superseded the other
    switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a, is_drill=True)
    run_jobs()
    assert Task.objects.get(pk=drill_task.pk).status == "CANCELLED"
    assert Task.objects.get(pk=real_task.pk).status not in ("CANCELLED", "DONE")  # the real one runs on
    assert fresh(world.com_a).mode == Mode.EMERGENCY


def test_party_members_are_not_called_in_to_real_tasks_by_a_drill(world):
    member = new_user("党员小陈")
    make_member(member, world.com_a)
    start_drill(world, [DRILL_PLAN[2]])
    run_jobs()
    real = new_task(world.grid_a1, title="真实任务", priority="URGENT")
    assert not party_members_join(real, [], dispatch_parameters(real).mode)
    assert Mobilisation.objects.get(user=member).is_drill


def test_staff_see_the_drills_of_their_area_with_their_runs_and_wind_downs(world, gql):
    start_drill(world, [DRILL_PLAN[1]])
    run_jobs()
    switch_mode(world.com_a, Mode.NORMAL, by=world.admin_a, is_drill=True, reason="演练结束")
    run_jobs()
    listed = gql.data(DRILLS, {"areaId": gid("Area", world.com_a)}, user=world.admin_a)["drills"]
    (drill,) = [e["node"] for e in listed["edges"]]
    assert (drill["isActive"], drill["mode"], drill["reason"], drill["startedByName"]) == (False, "NORMAL", "年度演练", "admin_a")
    assert [r["status"] for r in drill["planRuns"]] == ["DONE"] and drill["windDowns"][0]["cause"] == "DRILL_ENDED"
    assert gql.data(DRILLS, {"areaId": gid("Area", world.com_a), "activeOnly": True}, user=world.admin_a)["drills"]["totalCount"] == 0
