"""The escalation ladder of a safety check (issue 15): push to a live device, SMS when nobody
opened it, a voice call for the silent vulnerable (at once for those who cannot read SMS), the
answer by keypad through the same path; each rung idempotent and gone when the check closes."""

import datetime as dt

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from emergency.escalation import sweep_escalation
from emergency.models import AnswerChannel, SafetyState, SafetyStatus
from emergency.safety import close_safety_check, start_safety_check
from emergency.tasks import run_pending_emergency_jobs
from notifications import voice_outbox
from notifications.models import (
    CallStatus,
    DevicePush,
    Notification,
    PushStatus,
    SmsMessage,
    VoiceCall,
)
from notifications.push import PushError
from notifications.push import locmem as push_locmem
from notifications.push_outbox import acknowledge
from notifications.voice import locmem as voice_locmem
from tests.notifications.helpers import send_pushes
from tests.operations import operation
from volunteers.models import Task

from .emergency_support import _emergency_isolation, resident  # noqa: F401

pytestmark = pytest.mark.django_db
ACK = operation("notifications/AcknowledgeNotification")
CHECK = operation("emergency/SafetyCheck")


@pytest.fixture
def people(world):
    return {
        "app": resident(world.grid_a1, "张用App", app=True),
        "app_old": resident(world.grid_a1, "钱独居用App", app=True, elderly_living_alone=True),
        "account_only": resident(world.grid_a1, "周有账号无手机App", app=True, device=False),
        "sms": resident(world.grid_a2, "李无App"),
        "voice": resident(world.grid_a2, "吴看不清短信", prefers_voice=True, elderly_living_alone=True),
    }


def start(world, **kwargs):
    check = start_safety_check(world.com_a, by=world.admin_a, title="台风报平安", **kwargs)
    run_pending_emergency_jobs()
    send_pushes()
    check.refresh_from_db()
    return check


def row(check, person) -> SafetyStatus:
    return SafetyStatus.objects.select_related("resident").get(safety_check=check, resident=person)


def texted(check, person) -> bool:
    return SmsMessage.objects.filter(idempotency_key=f"safety:{check.pk}:{person.pk}").exists()


def later(seconds: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def test_first_rungs_push_to_live_devices_sms_to_the_rest_a_call_for_who_cannot_read(world, people):
    check = start(world)
    assert row(check, people["app"]).asked_by_push and not texted(check, people["app"])
    # an account without a live device is not "reachable by app": texted at once
    assert not row(check, people["account_only"]).asked_by_push and texted(check, people["account_only"])
    assert texted(check, people["sms"]) and texted(check, people["app_old"])  # the vulnerable: SMS beside the push
    assert not texted(check, people["voice"]) and row(check, people["voice"]).called_at is not None
    [call] = VoiceCall.objects.all()
    assert call.phone == str(people["voice"].phone) and call.script == "emergency.safety.voice"
    assert row(check, people["app"]).asked_at is not None  # the push was handed over: the clock runs
    assert check.fanout_counts["pushed"] == 2 and check.fanout_counts["voice"] == 1


def test_an_unopened_push_becomes_an_sms_after_the_ladder_time_once(world, people):
    check = start(world)
    assert sweep_escalation(now=later(60)) == {"sms": 0, "voice": 0}  # too early
    assert sweep_escalation(now=later(181))["sms"] == 1
    sms = SmsMessage.objects.get(idempotency_key=f"safety:{check.pk}:{people['app'].pk}")
    assert sms.lane == 1 and sms.expects_reply
    assert sweep_escalation(now=later(200))["sms"] == 0  # idempotent
    assert row(check, people["app"]).texted_at is not None
    check.refresh_from_db()
    assert check.fanout_counts["sms_escalated"] == 1


def test_an_opened_push_needs_no_sms(world, people, gql):
    check = start(world)
    [pushed] = [p for p in push_locmem.outbox if p.message.token == people["app"].user.devices.get().token]
    assert pushed.message.data["ref"] == f"safety-check-{check.pk}"  # what the app acknowledges with
    _, body = gql(ACK, {"ref": pushed.message.data["ref"]}, user=people["app"].user)
    assert body["data"]["acknowledgeNotification"]["errors"] == []
    assert row(check, people["app"]).acknowledged_at is not None
    assert sweep_escalation(now=later(181))["sms"] == 0
    assert not texted(check, people["app"])


def test_a_push_that_fails_on_every_device_is_an_sms_at_once(world, people):
    token = people["app"].user.devices.get().token
    push_locmem.fail_token(token, PushError("Unregistered", "Unregistered", invalid_token=True))
    check = start(world)
    assert DevicePush.objects.get(user=people["app"].user).status == PushStatus.FAILED
    assert texted(check, people["app"]) and row(check, people["app"]).asked_by_sms


def test_the_silent_vulnerable_are_called_after_the_ladder_time(world, people):
    check = start(world)
    assert sweep_escalation(now=later(599))["voice"] == 0
    assert sweep_escalation(now=later(601))["voice"] == 1  # app_old only: the others are not vulnerable
    calls = VoiceCall.objects.filter(idempotency_key=f"safety-call:{check.pk}:{people['app_old'].pk}")
    assert calls.count() == 1
    assert sweep_escalation(now=later(700))["voice"] == 0


def test_a_plan_may_change_the_ladder(world, people, settings):
    settings.ESCALATION_LADDERS = {"safety_check": {"sms_after_seconds": 30, "voice_after_seconds": 0}}
    check = start(world)
    assert sweep_escalation(now=later(31))["sms"] == 1
    assert sweep_escalation(now=later(5000))["voice"] == 0  # the voice rung is off
    assert check.pk


def test_keypad_1_answers_safe_through_the_same_path(world, people):
    check = start(world)
    call = VoiceCall.objects.get()
    voice_outbox.drain_calls(call.route, max_seconds=5)
    placed = voice_locmem.calls[-1]
    assert "平安请按1，需要帮助请按2" in placed.text
    voice_outbox.record_events(voice_locmem.events(placed.sid, "completed", digits="1"))
    status = row(check, people["voice"])
    assert status.status == SafetyState.SAFE and status.channel == AnswerChannel.VOICE
    assert VoiceCall.objects.get().status == CallStatus.ANSWERED
    voice_outbox.record_events(voice_locmem.events(placed.sid, "completed", digits="2"))  # a replayed webhook
    assert row(check, people["voice"]).status == SafetyState.SAFE


def test_keypad_2_makes_the_life_safety_task(world, people):
    check = start(world)
    call = VoiceCall.objects.get()
    voice_outbox.drain_calls(call.route, max_seconds=5)
    voice_outbox.record_events(voice_locmem.events(voice_locmem.calls[-1].sid, "completed", digits="2"))
    status = row(check, people["voice"])
    assert status.status == SafetyState.NEED_HELP and status.need_help_task_id
    assert Task.objects.get(pk=status.need_help_task_id).priority == "LIFE_SAFETY"


def test_no_key_is_not_an_answer_and_busy_is_tried_again(world, people, settings):
    settings.VOICE_RETRY_SECONDS = 0
    check = start(world)
    call = VoiceCall.objects.get()
    voice_outbox.drain_calls(call.route, max_seconds=5)
    voice_outbox.record_events(voice_locmem.events(voice_locmem.calls[-1].sid, "busy"))
    call.refresh_from_db()
    assert call.status == CallStatus.QUEUED and call.error_code == "busy"
    voice_outbox.drain_calls(call.route, max_seconds=5)
    assert len(voice_locmem.calls) == 2
    voice_outbox.record_events(voice_locmem.events(voice_locmem.calls[-1].sid, "completed"))  # picked up, no key
    call.refresh_from_db()
    status = row(check, people["voice"])
    assert call.status == CallStatus.UNANSWERED and status.status == SafetyState.UNANSWERED
    assert status.asked_at is not None  # the silence clock runs: a welfare visit follows in time


def test_closing_the_check_drops_calls_and_pushes_not_yet_out(world, people):
    check = start_safety_check(world.com_a, by=world.admin_a, title="台风报平安")
    run_pending_emergency_jobs()
    close_safety_check(check, by=world.admin_a)
    assert set(VoiceCall.objects.values_list("status", flat=True)) == {CallStatus.SUPERSEDED}
    assert set(DevicePush.objects.values_list("status", flat=True)) == {PushStatus.SUPERSEDED}
    assert sweep_escalation(now=later(10_000)) == {"sms": 0, "voice": 0}


def test_an_answer_drops_the_pushes_and_call_still_queued(world, people):
    from emergency.safety_answers import answer_safety_check

    check = start_safety_check(world.com_a, by=world.admin_a, title="台风报平安")
    run_pending_emergency_jobs()
    voice_row = row(check, people["voice"])
    answer_safety_check(voice_row, "SAFE", by=world.admin_a, channel=AnswerChannel.STAFF)
    assert VoiceCall.objects.get().status == CallStatus.SUPERSEDED
    app_row = row(check, people["app"])
    answer_safety_check(app_row, "SAFE", by=world.admin_a, channel=AnswerChannel.STAFF)  # staff answer for them
    assert DevicePush.objects.get(user=people["app"].user).status == PushStatus.SUPERSEDED
    assert DevicePush.objects.get(user=people["app_old"].user).status == PushStatus.QUEUED


def test_acknowledge_service_sets_the_row(world, people):
    check = start(world)
    notification = Notification.objects.get(user=people["app_old"].user, kind="safety_check")
    acknowledge(people["app_old"].user, notification.pk)
    assert row(check, people["app_old"]).acknowledged_at is not None


def test_live_counts_show_reach_per_rung_reached_means_opened_or_answered(world, people, gql):
    check = start(world)
    notification = Notification.objects.get(user=people["app"].user, kind="safety_check")
    acknowledge(people["app"].user, notification.pk)
    status, body = gql(CHECK, {"id": to_global_id("SafetyCheck", check.pk), "first": 10}, user=world.admin_a)
    counts = body["data"]["node"]["counts"]
    assert {k: counts[k] for k in ("pushed", "acknowledged", "texted", "called", "reached")} == {
        "pushed": 2, "acknowledged": 1, "texted": 3, "called": 1, "reached": 1}
    assert counts["accountedFor"] == 0  # opened is reached, not yet an answer


def test_a_real_twilio_call_answered_with_2_through_the_signed_webhooks(world, fake_twilio_voice, client):
    from tests.fake_twilio_voice import via_client

    abroad = resident(world.grid_a1, "Mary Lee", prefers_voice=True, language="en")
    abroad.phone = "+15551230001"
    abroad.save()
    check = start_safety_check(world.com_a, by=world.admin_a, title="Typhoon check")
    run_pending_emergency_jobs()
    call = VoiceCall.objects.get(phone="+15551230001")
    assert call.route == "international"
    voice_outbox.drain_calls("international", max_seconds=5)
    call.refresh_from_db()
    assert call.status == CallStatus.CALLING and call.provider_sid.startswith("CA")
    placed = fake_twilio_voice.call(call.provider_sid)
    assert "press 2" in placed["twiml"]
    # a forged callback changes nothing
    forged = client.post(f"/voice/twilio/gather/{call.pk}/?lang=en", {"CallSid": call.provider_sid, "Digits": "1"},
                         HTTP_X_TWILIO_SIGNATURE="forged")
    assert forged.status_code == 403 and row(check, abroad).status == SafetyState.UNANSWERED
    done = fake_twilio_voice.simulate_call(call.provider_sid, "completed", digits="2", post=via_client(client))
    assert all(status in (200, 204) for _, _, status, _ in done.posts)
    status = row(check, abroad)
    assert status.status == SafetyState.NEED_HELP and status.channel == AnswerChannel.VOICE and status.need_help_task_id
    call.refresh_from_db()
    assert call.status == CallStatus.ANSWERED and call.digits == "2"
