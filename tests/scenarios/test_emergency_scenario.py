"""End to end on the demo city, through the public API, the signed warning webhook and the SMS
webhook: a red rainstorm warning comes in from the weather bureau and becomes a proposal to the
commander, who accepts it — declaring an emergency in the subdistrict; the plan opens its
shelter, alerts residents (naming the shelter), starts a safety check and calls volunteers in;
a household is checked into the shelter; residents answer by app and by SMS; a need-help
answer and a silent vulnerable resident both become tasks that volunteers accept, and the
need-help task delivers water from the subdistrict's store; the area returns to normal
through recovery; the after-action report shows it all with the database's numbers."""

import datetime as dt

import pytest
from django.utils import timezone

from community.demo import build_demo_city
from community.models import Area, Resident
from emergency.models import Alert, Mobilisation, SafetyCheck, SafetyStatus, WarningSource
from emergency.safety_answers import request_welfare_checks
from emergency.tasks import run_pending_emergency_jobs
from notifications.models import InboundSms, Notification, SmsMessage
from notifications.tasks import process_inbound
from resources.models import Facility, Stock, StockMovement
from tests.emergency.cap_documents import cap, post_signed
from tests.emergency.emergency_support import ALERT_PARAMS, _emergency_isolation, gid  # noqa: F401
from tests.notifications.helpers import PUBLIC, inbound_params, send_queued, signed_post
from tests.operations import operation
from volunteers.dispatch.waves import offer_next_wave
from volunteers.models import Offer, Task

pytestmark = pytest.mark.django_db

SWITCH = operation("community/SwitchAreaMode")
SAVE_PLAN = operation("emergency/SaveResponsePlan")
MINE = operation("emergency/MySafetyStatuses")
ANSWER = operation("emergency/AnswerSafetyCheck")
MOBILISED = operation("emergency/MyMobilisations")
RESPOND_CALL = operation("emergency/RespondToMobilisation")
REPORT = operation("emergency/AfterActionReport")
ACCEPT = operation("tasks/RespondToOffer")
PROPOSALS = operation("emergency/WarningProposals")
DECIDE = operation("emergency/DecideWarningProposal")
SAVE_FACILITY = operation("resources/SaveFacility")
CHECK_IN = operation("resources/CheckInToShelter")
SAVE_ITEM = operation("resources/SaveSupplyItem")
SAVE_WAREHOUSE = operation("resources/SaveWarehouse")
RECEIVE = operation("resources/ReceiveStock")
CARRY = operation("resources/AddTaskSupply")
ON_SITE = operation("tasks/CheckInOnSite")
COMPLETE = operation("tasks/CompleteTaskAssignment")
BEFORE_AND_DURING = operation("emergency/AfterActionResources")
WEATHER_KEY = "key-shared-with-the-weather-bureau"


def accept_first_offer(gql, task: Task):
    offer_next_wave(task.pk)
    offer = Offer.objects.filter(task=task, status="PENDING").order_by("rank", "id").first()
    assert offer is not None, f"nobody was offered task {task.pk}"
    result = gql.data(ACCEPT, {"offerId": gid("Offer", offer), "accept": True}, user=offer.user)["respondToOffer"]
    assert result["outcome"] == "ACCEPTED", result
    return offer.user, result["assignment"]["id"]


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


def test_an_emergency_in_a_subdistrict_from_declaration_to_review(gql, client, settings, django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    demo = build_demo_city()
    sub = Area.objects.get(code="hz-sc-1")
    commander = demo.staff["commander1"]
    since = timezone.now() - dt.timedelta(minutes=1)

    # The commander prepares the plan and declares the emergency.
    plan = [{"type": "FACILITIES", "params": {"status": "OPEN"}},
            {"type": "ALERT", "params": {**ALERT_PARAMS, "shelter_codes": ["hz-sc-1-school"]}},
            {"type": "SAFETY_CHECK", "params": {"title": "台风报平安", "welfare_after_minutes": 30}},
            {"type": "MOBILISE", "params": {"level": "CALL_IN", "message": "请到社区集合"}}]
    before = prepare_shelter_and_store(gql, sub, commander)
    saved = gql.data(SAVE_PLAN, {"areaId": gid("Area", sub), "mode": "EMERGENCY", "name": "防台风预案", "actions": plan},
                     user=commander)["saveResponsePlan"]
    assert saved["errors"] == []

    # A warning comes in: "switch 湖滨街道 to STANDBY?" The commander declares the emergency instead.
    warning_comes_in(client, sub)
    (proposal,) = gql.data(PROPOSALS, {"status": "PENDING"}, user=commander)["warningProposals"]["edges"]
    assert (proposal["node"]["area"]["name"], proposal["node"]["mode"]) == ("湖滨街道", "STANDBY")
    decided = gql.data(DECIDE, {"proposalId": proposal["node"]["id"], "accept": True, "mode": "EMERGENCY", "key": "s1"},
                       user=commander)["decideWarningProposal"]
    assert decided["errors"] == [] and decided["proposal"]["modeSwitch"]["planRun"]["planVersion"] == 1
    run_pending_emergency_jobs()
    assert Facility.objects.get(code="hz-sc-1-school").status == "OPEN"  # the plan opened the shelter

    # Alerts and safety checks went out to the subdistrict's residents.
    residents = Resident.objects.in_area(sub).select_related("user")
    app_users = [r for r in residents if r.uses_app]
    alert = Alert.objects.get()
    assert Notification.objects.filter(kind="alert").count() == len(app_users) > 0
    texted = SmsMessage.objects.filter(purpose="alert").count()
    assert texted == sum(1 for r in residents if r.sms_phone and (r.is_vulnerable or not r.uses_app))
    check = SafetyCheck.objects.get()
    assert check.statuses.count() == residents.count() == check.resident_count
    assert all("避难场所：东坡小学避难场所（东坡路1号）" in m.body for m in SmsMessage.objects.filter(purpose="alert"))

    # A household with a vulnerable member goes to the shelter.
    sheltered = next(r for r in residents if r.is_vulnerable and r.household_id)
    arrived = gql.data(CHECK_IN, {"facilityId": before["school"]["id"], "householdId": gid("Household", sheltered.household_id)},
                       user=commander)["checkInToShelter"]
    in_shelter = Resident.objects.filter(household_id=sheltered.household_id).count()
    assert arrived["errors"] == [] and arrived["facility"]["occupancy"] == in_shelter and arrived["stays"][0]["isVulnerable"]

    # Volunteers answer the call-in: available, so dispatch can offer them tasks.
    called = Mobilisation.objects.filter(kind="VOLUNTEER").select_related("user")
    assert called.count() > 0
    for mobilisation in called[:12]:
        mine = gql.data(MOBILISED, {}, user=mobilisation.user)["myMobilisations"]["edges"]
        gql.data(RESPOND_CALL, {"mobilisationId": mine[0]["node"]["id"], "available": True}, user=mobilisation.user)

    # Residents answer: two in the app (safe, and need help), one by SMS reply "1".
    safe_one, needs_help = app_users[0], app_users[1]
    statuses = gql.data(MINE, {}, user=safe_one.user)["mySafetyStatuses"]["edges"]
    household = {r.pk for r in residents if safe_one.household_id and r.household_id == safe_one.household_id} | {safe_one.pk}
    assert {e["node"]["resident"]["id"] for e in statuses} == {gid("Resident", pk) for pk in household}  # self + household
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

    # Vulnerable residents still silent after 30 minutes get welfare-check tasks.
    silent_vulnerable = SafetyStatus.objects.filter(safety_check=check, is_vulnerable=True, status="UNANSWERED").count()
    assert request_welfare_checks(now=check.started_at + dt.timedelta(minutes=31)) == silent_vulnerable > 0

    # Both kinds of task get staffed: volunteers accept their offers.
    need_help_task = Task.objects.get(priority="LIFE_SAFETY", source="SAFETY_CHECK")
    welfare_task = Task.objects.filter(priority="URGENT", source="SAFETY_CHECK").order_by("id").first()
    helper, assignment_id = accept_first_offer(gql, need_help_task)
    accept_first_offer(gql, welfare_task)
    assert Task.objects.filter(pk__in=[need_help_task.pk, welfare_task.pk], status="STAFFED").count() == 2

    # The need-help task takes two boxes of water to the household; done, they are distributed.
    carried = gql.data(CARRY, {"taskId": gid("Task", need_help_task), "warehouseId": before["store"]["id"],
                               "itemId": before["item"]["id"], "quantity": 2,
                               "householdId": gid("Household", needs_help.household_id) if needs_help.household_id else None},
                       user=commander)["addTaskSupply"]
    assert carried["errors"] == [] and carried["taskSupply"]["status"] == "RESERVED"
    site = {"latitude": need_help_task.lat, "longitude": need_help_task.lng}
    gql.data(ON_SITE, {"assignmentId": assignment_id, "location": site}, user=helper)
    done = gql.data(COMPLETE, {"assignmentId": assignment_id}, user=helper)["completeTaskAssignment"]
    assert done["errors"] == [] and Task.objects.get(pk=need_help_task.pk).status == "DONE"
    water = Stock.objects.get(item__code="water")
    assert (water.quantity, water.reserved) == (18, 0)
    assert StockMovement.objects.get(kind="DISTRIBUTED").task_id == need_help_task.pk

    # Back to normal through recovery.
    for mode in ("RECOVERY", "NORMAL"):
        result = gql.data(SWITCH, {"areaId": gid("Area", sub), "mode": mode, "reason": "台风过境"}, user=commander)
        assert result["switchAreaMode"]["errors"] == []
    run_pending_emergency_jobs()
    check.refresh_from_db()
    assert check.status == "CLOSED"

    # The after-action report shows all of it.
    report = gql.data(REPORT, {"areaId": gid("Area", sub), "since": since.isoformat(),
                               "until": (timezone.now() + dt.timedelta(minutes=1)).isoformat()}, user=commander)["afterActionReport"]
    switches = [e["title"] for e in report["timeline"] if e["kind"] == "switch"]
    assert [e["kind"] for e in report["timeline"]][:2] == ["warning", "switch"]  # the warning came first
    assert switches == ["NORMAL → EMERGENCY", "EMERGENCY → RECOVERY", "RECOVERY → NORMAL"]
    assert [e["kind"] for e in report["timeline"]].count("alert") == 1
    (review,) = report["safetyChecks"]
    assert (review["total"], review["safe"], review["needHelp"]) == (residents.count(), 2, 1)
    assert review["unanswered"] == residents.count() - 3 and review["welfareTasks"] == silent_vulnerable
    assert review["needHelpTasks"] == 1 and review["vulnerable"] == sum(r.is_vulnerable for r in residents)
    assert report["tasks"]["created"] == 1 + silent_vulnerable and report["tasks"]["staffed"] == 2
    assert report["tasks"]["bySource"] == {"SAFETY_CHECK": 1 + silent_vulnerable}
    assert report["people"]["volunteersOnTasks"] + report["people"]["partyMembersOnTasks"] == 2
    assert report["people"]["volunteersCalled"] == called.count() and report["people"]["answeredAvailable"] == 12
    messages = report["messages"]
    assert messages["byPurpose"]["alert"]["written"] == texted
    assert messages["byPurpose"]["safety_check"]["written"] == SmsMessage.objects.filter(purpose="safety_check").count()
    assert messages["pushes"] == Notification.objects.filter(kind__in=["alert", "safety_check"]).count()
    assert "<svg" in report["html"] and "台风报平安" in report["html"] and alert.headline in report["html"]
    # ... and as a file a browser downloads from the signed link, without the token.
    assert report["downloadUrl"].startswith(f"{PUBLIC}/reports/after-action/?t=")
    download = client.get(report["downloadUrl"].removeprefix(PUBLIC))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    assert "台风报平安" in download.content.decode() and alert.headline in download.content.decode()
    # ... and what came before and during: the warning and the time to decide, the shelter, the water.
    extra = gql.data(BEFORE_AND_DURING, {"areaId": gid("Area", sub), "since": since.isoformat(),
                                         "until": (timezone.now() + dt.timedelta(minutes=1)).isoformat()},
                     user=commander)["afterActionReport"]
    assert (extra["warnings"]["received"], extra["warnings"]["accepted"]) == (1, 1)
    assert extra["warnings"]["entries"][0]["warning"]["identifier"] == "hz-rain-red-1"
    assert extra["warnings"]["medianSecondsToDecide"] is not None
    (shelter_review,) = extra["shelters"]
    assert (shelter_review["peak"], shelter_review["checkIns"]) == (in_shelter, in_shelter)
    assert [(i["item"]["code"], i["received"], i["distributed"], i["byTasks"]) for i in extra["supplies"]["items"]] == [
        ("water", 20, 2, 2)]
    assert "东坡小学避难场所" in report["html"] and "杭州市气象台发布暴雨红色预警" in report["html"]
    drills = gql.data(REPORT, {"areaId": gid("Area", sub), "since": since.isoformat(), "until": timezone.now().isoformat(),
                               "drills": True}, user=commander)["afterActionReport"]
    assert drills["timeline"] == [] and drills["tasks"]["created"] == 0
