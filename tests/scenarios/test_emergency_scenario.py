"""End to end on the demo city, through the public API, the signed warning webhook and the SMS
webhook: 清波街道 runs a drill while a real typhoon hits 湖滨街道. A warning comes in from the
weather bureau and becomes a proposal to the commander, who accepts it into EMERGENCY: the
subdistrict's plan opens its shelter, alerts residents (naming the shelter), starts a safety
check and calls volunteers in, and each community's own plan runs too (its hazard patrols and
visits to elderly living alone); a household checks into the shelter;
residents answer by app, by SMS and through their grid worker (two calls for help from one
flat make one task for two people); volunteers take the tasks, one of them carrying water
from the subdistrict's store, distributed when it is closed. Meanwhile the drill never
touches real state, and ending it winds it down. Recovery winds the real footing down — what
nobody holds is cancelled, what runs is listed — and the commander closes the rest in bulk;
the after-action report shows it all, by area down to each grid, as HTML, PDF and XLSX."""

import datetime as dt
import io

import pytest
from django.db.models import Max
from django.utils import timezone
from openpyxl import load_workbook

from community.demo import build_demo_city
from community.models import Area, Resident, Role, RoleAssignment
from emergency.models import (
    Alert,
    Drill,
    Mobilisation,
    PlanRun,
    SafetyCheck,
    SafetyStatus,
    WarningSource,
    WindDown,
)
from emergency.safety_answers import request_welfare_checks
from emergency.tasks import run_pending_emergency_jobs
from notifications.models import InboundSms, Notification, SmsMessage
from notifications.tasks import process_inbound
from resources.models import Facility, Stock, StockMovement
from tests.emergency.cap_documents import cap, post_signed
from tests.emergency.emergency_support import ALERT_PARAMS, _emergency_isolation, gid  # noqa: F401
from tests.notifications.helpers import PUBLIC, inbound_params, send_queued, signed_post
from tests.operations import operation
from volunteers.dispatch.parameters import dispatch_parameters
from volunteers.dispatch.waves import offer_next_wave
from volunteers.models import AreaDispatchOverride, Offer, Task
from volunteers.services import TaskSpec, create_task

pytestmark = pytest.mark.django_db

SWITCH = operation("community/SwitchAreaMode")
SAVE_PLAN = operation("emergency/SaveResponsePlan")
MINE = operation("emergency/MySafetyStatuses")
ANSWER = operation("emergency/AnswerSafetyCheck")
MOBILISED = operation("emergency/MyMobilisations")
RESPOND_CALL = operation("emergency/RespondToMobilisation")
REPORT = operation("emergency/AfterActionReport")
ACCEPT = operation("tasks/RespondToOffer")
ACTIVE_DRILL = operation("emergency/ActiveDrill")
WIND_DOWNS = operation("emergency/WindDowns")
CLOSE = operation("emergency/CloseTasks")
PROPOSALS = operation("emergency/WarningProposals")
DECIDE = operation("emergency/DecideWarningProposal")
SAVE_FACILITY = operation("resources/SaveFacility")
CHECK_IN = operation("resources/CheckInToShelter")
SAVE_ITEM = operation("resources/SaveSupplyItem")
SAVE_WAREHOUSE = operation("resources/SaveWarehouse")
RECEIVE = operation("resources/ReceiveStock")
CARRY = operation("resources/AddTaskSupply")
BEFORE_AND_DURING = operation("emergency/AfterActionResources")
WEATHER_KEY = "key-shared-with-the-weather-bureau"


def accept_first_offer(gql, task: Task) -> None:
    offer_next_wave(task.pk)
    offer = Offer.objects.filter(task=task, status="PENDING").order_by("rank", "id").first()
    assert offer is not None, f"nobody was offered task {task.pk}"
    result = gql.data(ACCEPT, {"offerId": gid("Offer", offer), "accept": True}, user=offer.user)["respondToOffer"]
    assert result["outcome"] == "ACCEPTED", result


def prepare_shelter_and_store(gql, sub: Area, commander) -> dict:
    """Before: the commander registers the subdistrict's shelter (closed) and stocks water."""
    community = Area.objects.get(code="hz-sc-1-1")
    school = gql.data(SAVE_FACILITY, {"input": {
        "areaId": gid("Area", community), "code": "hz-sc-1-school", "kind": "SHELTER", "name": "东坡小学避难场所",
        "location": {"latitude": community.center_lat, "longitude": community.center_lng}, "address": "东坡路1号",
        "capacity": 200, "wheelchairAccessible": True}}, user=commander)["saveFacility"]["facility"]
    item = gql.data(SAVE_ITEM, {"input": {"code": "water", "name": "矿泉水", "unit": "箱", "category": "WATER"}},
                    user=commander)["saveSupplyItem"]["item"]
    store = gql.data(SAVE_WAREHOUSE, {"areaId": gid("Area", sub), "code": "hz-sc-1-store", "name": "湖滨街道物资仓库"},
                     user=commander)["saveWarehouse"]["warehouse"]
    gql.data(RECEIVE, {"warehouseId": store["id"], "itemId": item["id"], "quantity": 20, "reason": "区应急局调拨"}, user=commander)
    return {"school": school, "item": item, "store": store}


def warning_comes_in(client, sub: Area) -> None:
    """The weather bureau posts a red rainstorm warning for 湖滨街道, signed."""
    WarningSource.objects.create(code="hz-weather", name="杭州市气象台", kind="CAP_WEBHOOK", secret=WEATHER_KEY)
    body = cap("hz-rain-red-1", event="暴雨", headline="杭州市气象台发布暴雨红色预警", severity="Severe", urgency="Immediate",
               circle=f"{sub.center_lat:.6f},{sub.center_lng:.6f} 0.3")
    response = post_signed(client, "/warnings/cap/hz-weather/", body, WEATHER_KEY)
    assert response.status_code == 200 and response.json()["proposals"] == 1, response.content


def switch(gql, user, area, mode, **extra) -> dict:
    result = gql.data(SWITCH, {"areaId": gid("Area", area), "mode": mode, **extra}, user=user)["switchAreaMode"]
    assert result["errors"] == [], result
    return result


def path_of(url: str) -> str:
    return url.removeprefix(PUBLIC)


def test_a_typhoon_beside_a_drill_from_declaration_to_wind_down_and_review(gql, client, settings,
                                                                          django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    demo = build_demo_city()
    sub, drilled = Area.objects.get(code="hz-sc-1"), Area.objects.get(code="hz-sc-2")
    commander = demo.staff["commander1"]
    since = timezone.now() - dt.timedelta(minutes=1)

    # 清波街道 starts a drill: its communities' own plans run, as a drill; nothing real changes.
    a_real_task_there = create_task(TaskSpec(title="日常巡查", priority="URGENT"), dispatch=False,
                                    area=Area.objects.filter(path__startswith=drilled.path, kind="grid").first())
    answer_time = dispatch_parameters(a_real_task_there).answer_seconds
    drill_started = switch(gql, commander, drilled, "EMERGENCY", isDrill=True, reason="防台演练")
    assert drill_started["area"]["mode"] == "NORMAL" and drill_started["drill"]["mode"] == "EMERGENCY"
    assert len(drill_started["switch"]["planRun"]["descendantRuns"]) == 2
    run_pending_emergency_jobs()
    grid_there = gql.data(ACTIVE_DRILL, {"id": gid("Area", a_real_task_there.area)}, user=commander)["node"]
    assert (grid_there["effectiveMode"], grid_there["activeDrill"]["mode"]) == ("NORMAL", "EMERGENCY")
    assert dispatch_parameters(a_real_task_there).answer_seconds == answer_time  # the drill's 120 s are not applied
    assert not AreaDispatchOverride.objects.exists()

    # The commander prepares the shelter, the store and the plan.
    before = prepare_shelter_and_store(gql, sub, commander)
    plan = [{"type": "FACILITIES", "params": {"status": "OPEN"}},
            {"type": "ALERT", "params": {**ALERT_PARAMS, "shelter_codes": ["hz-sc-1-school"]}},
            {"type": "SAFETY_CHECK", "params": {"title": "台风报平安", "welfare_after_minutes": 30}},
            {"type": "MOBILISE", "params": {"level": "CALL_IN", "message": "请到社区集合"}}]
    saved = gql.data(SAVE_PLAN, {"areaId": gid("Area", sub), "mode": "EMERGENCY", "name": "防台风预案", "actions": plan},
                     user=commander)["saveResponsePlan"]
    assert saved["errors"] == []
    # A warning comes in: "switch 湖滨街道 to STANDBY?" The commander declares the emergency instead.
    warning_comes_in(client, sub)
    (proposal,) = gql.data(PROPOSALS, {"status": "PENDING"}, user=commander)["warningProposals"]["edges"]
    assert (proposal["node"]["area"]["name"], proposal["node"]["mode"]) == ("湖滨街道", "STANDBY")
    declared = gql.data(DECIDE, {"proposalId": proposal["node"]["id"], "accept": True, "mode": "EMERGENCY", "key": "s1"},
                        user=commander)["decideWarningProposal"]["proposal"]
    assert declared["modeSwitch"]["planRun"]["planVersion"] == 1 and declared["area"]["mode"] == "EMERGENCY"
    assert {r["area"]["name"] for r in declared["modeSwitch"]["planRun"]["descendantRuns"]} == {"东坡社区", "岳王社区"}
    run_pending_emergency_jobs()
    assert Facility.objects.get(code="hz-sc-1-school").status == "OPEN"  # the plan opened the shelter

    # One real alert and one real safety check (the communities' own were covered by the
    # subdistrict's); the communities' patrols and visits to elderly living alone are tasks.
    residents = Resident.objects.in_area(sub).select_related("user")
    app_users = [r for r in residents if r.uses_app]
    alert = Alert.objects.get(is_drill=False)
    check = SafetyCheck.objects.get(is_drill=False)
    assert check.statuses.count() == residents.count() == check.resident_count
    assert Notification.objects.filter(kind="alert", is_drill=False).count() == len(app_users) > 0
    texted = SmsMessage.objects.filter(purpose="alert", is_drill=False).count()
    assert texted == sum(1 for r in residents if r.sms_phone and (r.is_vulnerable or not r.uses_app))
    assert all("避难场所：东坡小学避难场所（东坡路1号）" in m.body for m in SmsMessage.objects.filter(purpose="alert", is_drill=False))

    # A household with a vulnerable member goes to the shelter.
    sheltered = next(r for r in residents if r.is_vulnerable and r.household_id)
    arrived = gql.data(CHECK_IN, {"facilityId": before["school"]["id"], "householdId": gid("Household", sheltered.household_id)},
                       user=commander)["checkInToShelter"]
    in_shelter = Resident.objects.filter(household_id=sheltered.household_id).count()
    assert arrived["errors"] == [] and arrived["facility"]["occupancy"] == in_shelter and arrived["stays"][0]["isVulnerable"]
    plan_tasks = Task.objects.filter(source="PLAN", is_drill=False)
    plan_count = plan_tasks.count()
    assert plan_count > 0 and {Area.objects.get_parent(t.area).name for t in plan_tasks} == {"东坡社区", "岳王社区"}
    assert set(AreaDispatchOverride.objects.values_list("area__name", flat=True)) == {"东坡社区", "岳王社区"}

    # Volunteers answer the call-in: available, so dispatch can offer them tasks.
    called = Mobilisation.objects.filter(kind="VOLUNTEER", is_drill=False).select_related("user")
    assert called.count() > 0
    for mobilisation in called[:12]:
        mine = gql.data(MOBILISED, {}, user=mobilisation.user)["myMobilisations"]["edges"]
        real = next(e for e in mine if not e["node"]["isDrill"])
        gql.data(RESPOND_CALL, {"mobilisationId": real["node"]["id"], "available": True}, user=mobilisation.user)

    # Residents answer: in the app (safe, and need help), by SMS reply "1", and through their
    # grid worker — two calls for help from one flat.
    safe_one, needs_help = app_users[0], app_users[1]
    gql.data(ANSWER, {"safetyCheckId": gid("SafetyCheck", check), "status": "SAFE", "key": "a"}, user=safe_one.user)
    helped = gql.data(ANSWER, {"safetyCheckId": gid("SafetyCheck", check), "status": "NEED_HELP", "note": "老人摔倒",
                               "key": "b"}, user=needs_help.user)["answerSafetyCheck"]["status"]
    assert helped["needHelpTaskId"]
    by_sms = next(r for r in residents if not r.uses_app and r.sms_phone and not r.is_vulnerable)
    send_queued()  # the SMS workers hand the questions to the provider
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(client, "/sms/inbound/", inbound_params(by_sms.sms_phone, "1", "SM" + "5" * 32)).status_code == 200
    process_inbound(InboundSms.objects.get(message_sid="SM" + "5" * 32).pk)
    assert SafetyStatus.objects.get(safety_check=check, resident=by_sms).status == "SAFE"
    answered = {safe_one.pk, needs_help.pk, by_sms.pk}
    flat = next(h for h in {r.household for r in residents if r.household_id}
                if h.members.count() >= 2 and not set(h.members.values_list("pk", flat=True)) & answered)
    first, second = list(flat.members.order_by("pk"))[:2]
    worker = RoleAssignment.objects.get(area=first.grid, role=Role.GRID_WORKER).user
    for person in (first, second):
        gql.data(ANSWER, {"safetyCheckId": gid("SafetyCheck", check), "residentId": gid("Resident", person),
                          "status": "NEED_HELP", "note": f"{person.display_name}被困"}, user=worker)
    flat_task = Task.objects.get(pk=SafetyStatus.objects.get(safety_check=check, resident=first).need_help_task_id)
    assert flat_task.people_to_help == 2
    assert SafetyStatus.objects.get(safety_check=check, resident=second).need_help_task_id == flat_task.pk

    # Vulnerable residents still silent after 30 minutes get welfare-check tasks.
    silent_vulnerable = SafetyStatus.objects.filter(safety_check=check, is_vulnerable=True, status="UNANSWERED").count()
    # Each clock starts when that resident was asked (the last was asked when the queue drained).
    last_asked = SafetyStatus.objects.filter(asked_at__isnull=False).aggregate(last=Max("asked_at"))["last"] or check.started_at
    request_welfare_checks(now=last_asked + dt.timedelta(minutes=31))  # (the drill's check's too)
    assert Task.objects.filter(priority="URGENT", source="SAFETY_CHECK", is_drill=False).count() == silent_vulnerable > 0

    # Volunteers take the first call for help and one welfare visit.
    need_help_task = Task.objects.get(pk=SafetyStatus.objects.get(safety_check=check, resident=needs_help).need_help_task_id)
    welfare_task = Task.objects.filter(priority="URGENT", source="SAFETY_CHECK", is_drill=False).order_by("id").first()
    accept_first_offer(gql, need_help_task)
    accept_first_offer(gql, welfare_task)
    assert Task.objects.filter(pk__in=[need_help_task.pk, welfare_task.pk], status="STAFFED").count() == 2
    # The call for help takes two boxes of water to the household: reserved now.
    carried = gql.data(CARRY, {"taskId": gid("Task", need_help_task), "warehouseId": before["store"]["id"],
                               "itemId": before["item"]["id"], "quantity": 2,
                               "householdId": gid("Household", needs_help.household_id) if needs_help.household_id else None},
                       user=commander)["addTaskSupply"]
    assert carried["errors"] == [] and carried["taskSupply"]["status"] == "RESERVED"

    # The drill ends while the typhoon goes on: its part winds down, the real one is untouched.
    real_before = list(Task.objects.filter(is_drill=False).order_by("pk").values_list("pk", "status"))
    sent_before = set(SmsMessage.objects.filter(is_drill=True).exclude(status="queued").values_list("pk", flat=True))
    drill_ended = switch(gql, commander, drilled, "NORMAL", isDrill=True, reason="演练结束")
    assert drill_ended["windDown"]["cause"] == "DRILL_ENDED" and drill_ended["drill"]["isActive"] is False
    run_pending_emergency_jobs()
    send_queued()
    assert not Task.objects.filter(is_drill=True).exclude(status__in=["CANCELLED", "DONE"]).exists()
    assert not SmsMessage.objects.filter(is_drill=True, status__in=["sent", "delivered"]).exclude(pk__in=sent_before).exists()
    assert not any(a.is_active() for a in Alert.objects.filter(is_drill=True))  # one per community's plan
    assert set(SafetyCheck.objects.filter(is_drill=True).values_list("status", flat=True)) == {"CLOSED"}
    assert list(Task.objects.filter(is_drill=False).order_by("pk").values_list("pk", "status")) == real_before
    assert not Drill.objects.filter(ended_at__isnull=True).exists()

    # Recovery winds the real footing down; the commander sees what still runs, and why.
    recovery = switch(gql, commander, sub, "RECOVERY", reason="台风过境")
    run_pending_emergency_jobs()
    summary = gql.data(WIND_DOWNS, {"areaId": gid("Area", sub)}, user=commander)["windDowns"]["edges"][0]["node"]
    assert summary["id"] == recovery["windDown"]["id"] and summary["status"] == "DONE"
    assert summary["closed"]["alertsCancelled"] == 1 and summary["closed"]["safetyChecksClosed"] == 1
    assert summary["closed"]["tasksCancelled"] == plan_count  # nobody held the patrols and visits: cancelled
    whys = {r["task"]["id"]: r["why"] for r in summary["stillRunning"]}
    assert whys[gid("Task", need_help_task)] == "STAFFED" and whys[gid("Task", flat_task)] == "HELP_REQUEST"
    assert whys[gid("Task", welfare_task)] == "STAFFED"
    assert {w for t, w in whys.items() if t not in (gid("Task", need_help_task), gid("Task", welfare_task), gid("Task", flat_task))} \
        <= {"WELFARE_VISIT", "HELP_REQUEST"}
    assert Alert.objects.get(msg_type="Cancel").headline == "台风预警解除"
    assert not AreaDispatchOverride.objects.exists()
    # ... and closes the rest in bulk.
    dry = gql.data(CLOSE, {"areaId": gid("Area", sub), "filter": {"windDownId": summary["id"]}, "dryRun": True},
                   user=commander)["closeTasks"]
    assert dry["matched"] == len(whys)
    closed = gql.data(CLOSE, {"areaId": gid("Area", sub), "filter": {"windDownId": summary["id"]}, "reason": "台风已过境",
                              "key": "close-all"}, user=commander)["closeTasks"]
    assert (closed["closed"], closed["cancelled"], closed["remaining"]) == (dry["closed"], dry["cancelled"], 0)
    # The call for help was done: its water is distributed, from the reservation.
    assert Task.objects.get(pk=need_help_task.pk).status == "DONE"
    water = Stock.objects.get(item__code="water")
    assert (water.quantity, water.reserved) == (18, 0)
    assert StockMovement.objects.get(kind="DISTRIBUTED").task_id == need_help_task.pk
    switch(gql, commander, sub, "NORMAL", reason="恢复平时")
    run_pending_emergency_jobs()
    assert WindDown.objects.filter(area=sub).count() == 2

    # The after-action report shows all of it, drills apart.
    until = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    report = gql.data(REPORT, {"areaId": gid("Area", sub), "since": since.isoformat(), "until": until},
                      user=commander)["afterActionReport"]
    switches = [e["title"] for e in report["timeline"] if e["kind"] == "switch"]
    assert [e["kind"] for e in report["timeline"]][:2] == ["warning", "switch"]  # the warning came first
    assert switches == ["NORMAL → EMERGENCY", "EMERGENCY → RECOVERY", "RECOVERY → NORMAL"]
    assert [e["title"].split(":")[0] for e in report["timeline"] if e["kind"] == "alert"] == ["Alert", "Cancel"]
    assert [e["title"] for e in report["timeline"] if e["kind"] == "wind_down"] == ["RECOVERY", "NORMAL"]
    (review,) = report["safetyChecks"]
    assert (review["total"], review["safe"], review["needHelp"]) == (residents.count(), 2, 3)
    assert review["welfareTasks"] == silent_vulnerable and review["needHelpTasks"] == 3
    assert report["tasks"]["bySource"] == {"SAFETY_CHECK": 2 + silent_vulnerable, "PLAN": plan_count}
    assert report["openTasksTotal"] == 0
    rows = {r["area"]["name"]: r for r in report["breakdown"]}
    assert rows["湖滨街道"]["level"] == 0 and rows["东坡社区"]["level"] == 1 and rows["东坡社区第1网格"]["level"] == 2
    assert rows["东坡社区"]["residents"] + rows["岳王社区"]["residents"] == residents.count()
    assert report["messages"]["byPurpose"]["alert"]["written"] == SmsMessage.objects.filter(purpose="alert", is_drill=False).count()
    assert "<svg" in report["html"] and "台风报平安" in report["html"] and "分区域情况" in report["html"]
    assert "东坡小学避难场所" in report["html"] and "杭州市气象台发布暴雨红色预警" in report["html"]
    # ... with what came before and during: the warning and the time to decide, the shelter, the water.
    extra = gql.data(BEFORE_AND_DURING, {"areaId": gid("Area", sub), "since": since.isoformat(), "until": until},
                     user=commander)["afterActionReport"]
    assert (extra["warnings"]["received"], extra["warnings"]["accepted"]) == (1, 1)
    assert extra["warnings"]["entries"][0]["warning"]["identifier"] == "hz-rain-red-1"
    assert extra["warnings"]["medianSecondsToDecide"] is not None
    # The subdistrict's shelter, and the demo communities' own, which their plans opened.
    in_sub = Facility.objects.filter(kind="SHELTER", area__path__startswith=sub.path)
    assert sorted(s["facility"]["name"] for s in extra["shelters"]) == sorted(in_sub.values_list("name", flat=True))
    assert in_sub.count() == 1 + len([c for c in demo.communities if c.path.startswith(sub.path)])
    (shelter_review,) = [s for s in extra["shelters"] if s["facility"]["name"] == "东坡小学避难场所"]
    assert all(s["checkIns"] == 0 for s in extra["shelters"] if s is not shelter_review)
    assert (shelter_review["peak"], shelter_review["checkIns"]) == (in_shelter, in_shelter)
    items = {i["item"]["code"]: (i["received"], i["distributed"], i["byTasks"]) for i in extra["supplies"]["items"]}
    assert items.pop("water") == (20, 2, 2)
    assert all(distributed == 0 for _, distributed, _ in items.values())  # the demo stores' first stock, untouched
    # ... as files a browser downloads from the signed links, without the token.
    html = client.get(path_of(report["downloadUrl"]))
    assert html.status_code == 200 and html["Content-Disposition"].startswith("attachment;") and alert.headline in html.content.decode()
    pdf = client.get(path_of(report["pdfUrl"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    sheets = load_workbook(io.BytesIO(client.get(path_of(report["xlsxUrl"])).content))
    assert "湖滨街道" in str(next(sheets["分区域情况"].iter_rows(min_row=2, values_only=True)))
    # The drill has its own report; the real one has none of it.
    drill_report = gql.data(REPORT, {"areaId": gid("Area", drilled), "since": since.isoformat(), "until": until,
                                     "drills": True}, user=commander)["afterActionReport"]
    assert [e["title"] for e in drill_report["timeline"] if e["kind"] == "switch"] == ["NORMAL → EMERGENCY", "EMERGENCY → NORMAL"]
    assert drill_report["tasks"]["created"] == Task.objects.filter(is_drill=True).count() > 0
    assert PlanRun.objects.filter(is_drill=True, drill__isnull=True).count() == 0
