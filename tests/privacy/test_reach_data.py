"""Devices, device pushes and voice calls (issue 15) under the privacy rules: retention blanks
finished rows past their period and nothing else, the export shows a person their own phones,
pushes and calls (tokens masked) and nobody else's, and an erasure forgets their phones, stops
what was still to reach them and blanks their number from the calls."""

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db.models import Count, Q
from django.utils import timezone
from openpyxl import load_workbook

from notifications import push_outbox, voice_outbox
from notifications.erasure import erase_reach
from notifications.models import (
    CallStatus,
    Device,
    DevicePush,
    InboundSms,
    Notification,
    PushStatus,
    SmsMessage,
    SmsStatus,
    VoiceCall,
)
from notifications.outbox import queue_sms
from notifications.push import close_push_transports
from notifications.push import locmem as push_locmem
from notifications.services import notify
from notifications.templates import register_template
from notifications.voice import VoiceError
from notifications.voice import locmem as voice_locmem
from notifications.voice.texts import SAFETY_CHECK
from privacy import retention
from tests.fake_twilio import AUTH_TOKEN
from tests.notifications.helpers import (
    PUBLIC,
    give_device,
    inbound_params,
    send_pushes,
    signed_post,
)
from tests.operations import operation

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
ME, OTHER = "+8613900000001", "+8613900000002"
ROOT = Path(__file__).resolve().parents[2]

register_template("test.privacy.reach", zh="【邻里】{text}", en="Linli: {text}")


@pytest.fixture(autouse=True)
def _fakes(settings):
    settings.VOICE_RATES = {"domestic": 0, "international": 0}  # no pacing sleeps in tests
    push_locmem.clear()
    voice_locmem.clear()
    close_push_transports()
    yield
    close_push_transports()
    push_locmem.clear()
    voice_locmem.clear()


def backdate(rows, field="created_at", days=91):
    # Setting up the past: the rows were written by the real paths, then made old.
    type(rows[0]).objects.filter(pk__in=[r.pk for r in rows]).update(**{field: timezone.now() - days * DAY})


def call(phone, key):
    return voice_outbox.queue_call(purpose="test.voice", script=SAFETY_CHECK, idempotency_key=key, phone=phone,
                                   params={"area": "甲社区", "title": "台风报平安"})


def place_calls():
    return voice_outbox.drain_calls("domestic", max_seconds=5)


def finish(row, outcome, digits=""):
    sid = VoiceCall.objects.get(pk=row.pk).provider_sid
    voice_outbox.record_events(voice_locmem.events(sid, outcome, digits=digits))


def pushes_of(notification):
    return list(DevicePush.objects.filter(notification=notification))


def status_counts(model):
    return sorted(model.objects.values_list("status").annotate(n=Count("pk")))


# --- retention ----------------------------------------------------------------------------------
@pytest.fixture
def reach_rows(world):
    """Pushes and calls in every state, old (91 days) and recent."""
    give_device(world.resident)
    give_device(world.other_resident)
    rows = {}
    rows["push_old_sent"] = notify(world.resident, kind="test.private", title="旧", body="旧")
    rows["push_new_sent"] = notify(world.resident, kind="test.private", title="新", body="新")
    rows["push_other_old_sent"] = notify(world.other_resident, kind="test.private", title="旧", body="旧")
    assert send_pushes() == 3
    rows["push_old_sending"] = notify(world.resident, kind="test.private", title="发送中", body="x")
    assert len(push_outbox.claim_batch("apns", max_lane=None, size=10)) == 1
    rows["push_old_queued"] = notify(world.resident, kind="test.private", title="待发", body="x")
    for name in ("push_old_sent", "push_other_old_sent", "push_old_sending", "push_old_queued"):
        backdate(pushes_of(rows[name]))

    for name in ("call_old_failed", "call_old_answered", "call_new_answered", "call_old_ringing"):
        rows[name] = call(ME, name)
    voice_locmem.fail_next(VoiceError("The number is not valid.", "21211", permanent=True))  # the first placed
    report = place_calls()
    assert (report.placed, report.failed) == (3, 1)
    for name in ("call_old_answered", "call_new_answered"):
        finish(rows[name], "completed", digits="1")
    rows["call_old_superseded"] = call(ME, "call_old_superseded")
    voice_outbox.supersede_calls(Q(pk=rows["call_old_superseded"].pk), reason="test", now=timezone.now())
    rows["call_old_queued"] = call(ME, "call_old_queued")
    backdate([rows[n] for n in ("call_old_answered", "call_old_ringing", "call_old_failed", "call_old_superseded",
                                "call_old_queued")])
    return rows


def test_reach_rows_start_in_the_states_the_tests_need(reach_rows):
    status = {name: VoiceCall.objects.get(pk=row.pk).status for name, row in reach_rows.items() if name.startswith("call")}
    assert status == {"call_old_answered": CallStatus.ANSWERED, "call_new_answered": CallStatus.ANSWERED,
                      "call_old_ringing": CallStatus.CALLING, "call_old_failed": CallStatus.FAILED,
                      "call_old_superseded": CallStatus.SUPERSEDED, "call_old_queued": CallStatus.QUEUED}
    pushes = {name: pushes_of(row)[0].status for name, row in reach_rows.items() if name.startswith("push")}
    assert pushes == {"push_old_sent": PushStatus.SENT, "push_new_sent": PushStatus.SENT,
                      "push_other_old_sent": PushStatus.SENT, "push_old_sending": PushStatus.SENDING,
                      "push_old_queued": PushStatus.QUEUED}


def test_retention_blanks_finished_pushes_and_calls_past_their_period_and_nothing_else(reach_rows):
    pushes_before, calls_before = status_counts(DevicePush), status_counts(VoiceCall)
    devices_before = sorted(Device.objects.values_list("pk", "token", "last_seen_at"))
    done = retention.apply_retention()
    assert (done["device_pushes"], done["voice_calls"]) == (2, 3)

    def push(name):
        return pushes_of(reach_rows[name])[0]

    for name in ("push_old_sent", "push_other_old_sent"):
        row = push(name)
        assert (row.device_id, row.provider_id, row.error_message, row.status) == (None, "", "", PushStatus.SENT)
        assert (row.user_id, row.provider, row.purpose) == (reach_rows[name].user_id, "apns", "test.private")
    for name in ("push_new_sent", "push_old_sending", "push_old_queued"):
        assert push(name).device_id is not None, name
    assert push("push_new_sent").provider_id  # recent: kept whole

    def voice(name):
        return VoiceCall.objects.get(pk=reach_rows[name].pk)

    for name in ("call_old_answered", "call_old_failed", "call_old_superseded"):
        row = voice(name)
        assert (row.phone, row.params, row.error_message) == ("", {}, ""), name
    assert (voice("call_old_answered").digits, voice("call_old_answered").status) == ("1", CallStatus.ANSWERED)
    for name in ("call_new_answered", "call_old_ringing", "call_old_queued"):
        row = voice(name)
        assert (row.phone, row.params) == (ME, {"area": "甲社区", "title": "台风报平安"}), name

    # What the after-action report counts is the same; devices are the push sweep's, not retention's.
    assert (status_counts(DevicePush), status_counts(VoiceCall)) == (pushes_before, calls_before)
    assert sorted(Device.objects.values_list("pk", "token", "last_seen_at")) == devices_before
    # A second run (another beat, a retried task) has nothing more to do.
    again = retention.apply_retention()
    assert (again["device_pushes"], again["voice_calls"]) == (0, 0)


def test_the_ringing_and_queued_calls_are_blanked_once_finished_and_old(reach_rows):
    ringing = VoiceCall.objects.get(pk=reach_rows["call_old_ringing"].pk)
    voice_outbox.record_events(voice_locmem.events(ringing.provider_sid, "completed"))  # picked up, no key
    assert retention.apply_retention()["voice_calls"] == 4
    assert VoiceCall.objects.get(pk=ringing.pk).phone == ""
    assert VoiceCall.objects.get(pk=reach_rows["call_old_queued"].pk).phone == ME


def test_the_periods_are_settings_and_zero_keeps_for_ever(reach_rows, settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "voice_calls": 0, "device_pushes": 120}
    done = retention.apply_retention()
    assert "voice_calls" not in done and done["device_pushes"] == 0
    assert not VoiceCall.objects.filter(phone="").exists()
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "voice_calls": 30, "device_pushes": 30}
    assert retention.apply_retention()["voice_calls"] == 3


# --- export -------------------------------------------------------------------------------------
def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_my_data_shows_my_devices_masked_my_pushes_and_calls_and_nobody_elses(world, gql, client, people):
    mine = give_device(world.resident)
    android = give_device(world.resident, provider="jpush")
    theirs = give_device(world.other_resident)
    backdate([android], "last_seen_at", 61)  # past PUSH_DEVICE_TTL_DAYS, not yet swept
    notify(world.resident, kind="test.private", title="药已送达", body="请查收")
    notify(world.other_resident, kind="test.private", title="别人的", body="别人的")
    send_pushes()
    answered, _ = call(ME, "mine-1"), call(OTHER, "theirs-1")
    place_calls()
    finish(answered, "completed", digits="2")

    links = gql.data(operation("privacy/ExportMyData"), user=world.resident)["exportMyData"]
    response = client.get(path_of(links["jsonUrl"]))
    assert response.status_code == 200
    sections = json.loads(response.content)["sections"]
    devices = sections["my_devices"]
    assert [(d["platform"], d["provider"], d["token"], d["app_version"], d["language"], d["live"]) for d in devices] == [
        ("ios", "apns", "…" + mine.token[-6:], "2.0.0", "zh-hans", True),
        ("android", "jpush", "…" + android.token[-6:], "2.0.0", "zh-hans", False)]
    assert all(d["created_at"] and d["last_seen_at"] for d in devices)
    pushes = sections["pushes_to_my_devices"]
    assert [(p["purpose"], p["provider"], p["device"], p["status"]) for p in pushes] == [
        ("test.private", "apns", "…" + mine.token[-6:], "sent")]  # the jpush phone was no longer live
    calls = sections["voice_calls_to_me"]
    assert [(c["phone"], c["purpose"], c["status"], c["digits"], c["attempts"]) for c in calls] == [
        (ME, "test.voice", "answered", "2", 1)]
    assert calls[0]["placed_at"] and calls[0]["answered_at"]
    text = response.content.decode()
    assert mine.token not in text and android.token not in text  # whole tokens never leave
    assert theirs.token[-6:] not in text and OTHER not in text and "别人的" not in text

    book = load_workbook(io.BytesIO(client.get(path_of(links["xlsxUrl"])).content))
    assert {"my_devices", "pushes_to_my_devices", "voice_calls_to_me"} <= set(book.sheetnames)
    head, row = list(book["my_devices"].iter_rows(values_only=True))[:2]
    assert dict(zip(head, row, strict=True))["token"] == "…" + mine.token[-6:]


def test_a_person_without_devices_or_calls_gets_empty_sections(world, gql, client, people):
    give_device(world.other_resident)
    call(OTHER, "theirs-1")
    links = gql.data(operation("privacy/ExportMyData"), user=world.resident)["exportMyData"]
    sections = json.loads(client.get(path_of(links["jsonUrl"])).content)["sections"]
    assert (sections["my_devices"], sections["pushes_to_my_devices"], sections["voice_calls_to_me"]) == ([], [], [])


# --- erasure ------------------------------------------------------------------------------------
def erase(gql, world, user):
    asked = gql.data(operation("privacy/RequestErasure"), {}, user=user)["requestErasure"]
    done = gql.data(operation("privacy/AnswerRightsRequest"), {"id": asked["request"]["id"], "done": True,
                                                               "answer": "已注销"}, user=world.admin_a)
    assert done["answerRightsRequest"]["request"]["status"] == "DONE"


@pytest.fixture
def reaching_me(world, people, client, settings, django_capture_on_commit_callbacks):
    """Everything under way to the resident (and to someone else) when the erasure comes."""
    settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = AUTH_TOKEN, PUBLIC
    for sid, phone in (("SM" + "1" * 32, ME), ("SM" + "2" * 32, OTHER)):
        with django_capture_on_commit_callbacks(execute=True):
            assert signed_post(client, "/sms/inbound/", inbound_params(phone, "我家漏水了", sid)).status_code == 200
    rows = {"my_devices": [give_device(world.resident), give_device(world.resident, provider="fcm")],
            "their_device": give_device(world.other_resident)}
    rows["sent_call"] = call(ME, "answered")
    rows["ringing_call"] = call(ME, "ringing")
    rows["their_call"] = call(OTHER, "theirs")
    place_calls()
    finish(rows["sent_call"], "completed", digits="1")
    rows["queued_call"] = call(ME, "queued")
    rows["their_queued_call"] = call(OTHER, "theirs-queued")
    rows["my_push"] = notify(world.resident, kind="test.private", title="待发", body="x")
    rows["their_push"] = notify(world.other_resident, kind="test.private", title="别人的", body="x")
    rows["my_sms"] = queue_sms(template="test.privacy.reach", context={"text": "您好"}, purpose="test.about",
                               idempotency_key="sms-me", phone=ME)
    rows["their_sms"] = queue_sms(template="test.privacy.reach", context={"text": "您好"}, purpose="test.about",
                                  idempotency_key="sms-them", phone=OTHER)
    return rows


def test_the_notifications_eraser_forgets_devices_refuses_pushes_and_blanks_numbers(world, reaching_me):
    done = erase_reach(world.resident)
    assert done == {"devices": 2, "pushes_refused": 2, "calls_superseded": 1, "calls_blanked": 3,
                    "sms_superseded": 1, "sms_blanked": 1, "texts_blanked": 1}
    my_text, their_text = (InboundSms.objects.get(message_sid="SM" + c * 32) for c in "12")
    assert (my_text.phone, my_text.body) == ("", "")
    assert (their_text.phone, their_text.body) == (OTHER, "我家漏水了")
    assert list(Device.objects.values_list("user", flat=True)) == [world.other_resident.pk]
    mine = DevicePush.objects.filter(user=world.resident)
    assert sorted(mine.values_list("status", "error_code", "device")) == [
        (PushStatus.REFUSED, "erased", None), (PushStatus.REFUSED, "erased", None)]
    assert send_pushes() == 1  # only the other person's
    assert [p.message.token for p in push_locmem.outbox] == [reaching_me["their_device"].token]

    calls = {name: VoiceCall.objects.get(pk=reaching_me[name].pk) for name in
             ("sent_call", "ringing_call", "queued_call", "their_call", "their_queued_call")}
    assert [(calls[n].phone, calls[n].status) for n in ("sent_call", "ringing_call", "queued_call")] == [
        ("", CallStatus.ANSWERED), ("", CallStatus.CALLING), ("", CallStatus.SUPERSEDED)]
    assert calls["sent_call"].digits == "1" and calls["queued_call"].params == {}
    assert (calls["their_call"].phone, calls["their_queued_call"].status) == (OTHER, CallStatus.QUEUED)
    assert SmsMessage.objects.get(pk=reaching_me["my_sms"].pk).status == SmsStatus.SUPERSEDED
    assert (SmsMessage.objects.get(pk=reaching_me["my_sms"].pk).phone, SmsMessage.objects.get(
        pk=reaching_me["their_sms"].pk).phone) == ("", OTHER)

    # The call that was ringing ends busy: it is not dialled again; the queued one never is.
    voice_locmem.clear()
    voice_outbox.record_events(voice_locmem.events(calls["ringing_call"].provider_sid, "busy"))
    assert VoiceCall.objects.get(pk=calls["ringing_call"].pk).status == CallStatus.UNANSWERED
    place_calls()
    assert [c.call.to for c in voice_locmem.calls] == [OTHER]
    # Erasing again changes nothing more.
    assert erase_reach(world.resident) == {"devices": 0, "pushes_refused": 0, "calls_superseded": 0,
                                           "calls_blanked": 0, "sms_superseded": 0, "sms_blanked": 0,
                                           "texts_blanked": 0}


def test_an_approved_erasure_leaves_nothing_that_can_reach_the_person(world, gql, reaching_me):
    erase(gql, world, world.resident)
    assert not Device.objects.filter(user=world.resident).exists()
    assert not DevicePush.objects.filter(user=world.resident).exists()  # went with the notification history
    assert not Notification.objects.filter(user=world.resident).exists()
    assert not VoiceCall.objects.filter(phone=ME).exists() and not SmsMessage.objects.filter(phone=ME).exists()
    assert send_pushes() == 1 and [p.message.token for p in push_locmem.outbox] == [reaching_me["their_device"].token]
    voice_locmem.clear()
    place_calls()
    assert [c.call.to for c in voice_locmem.calls] == [OTHER]
    assert not InboundSms.objects.filter(phone=ME).exists()


def test_a_call_claimed_when_its_number_is_erased_is_not_dialled(world, reaching_me):
    claimed = voice_outbox._claim_next("domestic", timezone.now())  # a drainer took it a moment before
    assert claimed is not None and claimed.phone == ME
    erase_reach(world.resident)
    claimed.refresh_from_db()
    voice_locmem.clear()
    voice_outbox.place(claimed)
    assert (VoiceCall.objects.get(pk=claimed.pk).status, VoiceCall.objects.get(pk=claimed.pk).error_code) == (
        CallStatus.FAILED, "erased")
    assert voice_locmem.calls == []


def test_the_periods_are_set_from_the_environment():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings", "RETENTION_DAYS_DEVICE_PUSHES": "30",
           "RETENTION_DAYS_VOICE_CALLS": "14"}
    code = "import json; from django.conf import settings; print(json.dumps(settings.RETENTION_DAYS))"
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    days = json.loads(result.stdout.strip().splitlines()[-1])
    assert (days["device_pushes"], days["voice_calls"], days["sms_bodies"]) == (30, 14, 90)
