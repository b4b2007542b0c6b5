"""End to end on the demo city, through the public API and the SMS webhook: a commander
declares an emergency in a subdistrict; the plan alerts residents, starts a safety check and
calls volunteers in; residents answer by app and by SMS; a need-help answer and a silent
vulnerable resident both become tasks that volunteers accept; the area returns to normal
through recovery; the after-action report shows it all with the database's numbers."""

import datetime as dt

import pytest
from django.utils import timezone

from community.demo import build_demo_city
from community.models import Area, Resident
from emergency.models import Alert, Mobilisation, SafetyCheck, SafetyStatus
from emergency.safety_answers import request_welfare_checks
from emergency.tasks import run_pending_emergency_jobs
from notifications.models import InboundSms, Notification, SmsMessage
from notifications.tasks import process_inbound
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


def accept_first_offer(gql, task: Task) -> None:
    offer_next_wave(task.pk)
    offer = Offer.objects.filter(task=task, status="PENDING").order_by("rank", "id").first()
    assert offer is not None, f"nobody was offered task {task.pk}"
    result = gql.data(ACCEPT, {"offerId": gid("Offer", offer), "accept": True}, user=offer.user)["respondToOffer"]
    assert result["outcome"] == "ACCEPTED", result


def test_an_emergency_in_a_subdistrict_from_declaration_to_review(gql, client, settings, django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    demo = build_demo_city()
    sub = Area.objects.get(code="hz-sc-1")
    commander = demo.staff["commander1"]
    since = timezone.now() - dt.timedelta(minutes=1)

    # The commander prepares the plan and declares the emergency.
    plan = [{"type": "ALERT", "params": ALERT_PARAMS},
            {"type": "SAFETY_CHECK", "params": {"title": "台风报平安", "welfare_after_minutes": 30}},
            {"type": "MOBILISE", "params": {"level": "CALL_IN", "message": "请到社区集合"}}]
    saved = gql.data(SAVE_PLAN, {"areaId": gid("Area", sub), "mode": "EMERGENCY", "name": "防台风预案", "actions": plan},
                     user=commander)["saveResponsePlan"]
    assert saved["errors"] == []
    declared = gql.data(SWITCH, {"areaId": gid("Area", sub), "mode": "EMERGENCY", "reason": "台风登陆", "key": "s1"},
                        user=commander)["switchAreaMode"]
    assert declared["errors"] == [] and declared["switch"]["planRun"]["planVersion"] == 1
    run_pending_emergency_jobs()

    # Alerts and safety checks went out to the subdistrict's residents.
    residents = Resident.objects.in_area(sub).select_related("user")
    app_users = [r for r in residents if r.uses_app]
    alert = Alert.objects.get()
    assert Notification.objects.filter(kind="alert").count() == len(app_users) > 0
    texted = SmsMessage.objects.filter(purpose="alert").count()
    assert texted == sum(1 for r in residents if r.sms_phone and (r.is_vulnerable or not r.uses_app))
    check = SafetyCheck.objects.get()
    assert check.statuses.count() == residents.count() == check.resident_count

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
    accept_first_offer(gql, need_help_task)
    accept_first_offer(gql, welfare_task)
    assert Task.objects.filter(pk__in=[need_help_task.pk, welfare_task.pk], status="STAFFED").count() == 2

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
    drills = gql.data(REPORT, {"areaId": gid("Area", sub), "since": since.isoformat(), "until": timezone.now().isoformat(),
                               "drills": True}, user=commander)["afterActionReport"]
    assert drills["timeline"] == [] and drills["tasks"]["created"] == 0
