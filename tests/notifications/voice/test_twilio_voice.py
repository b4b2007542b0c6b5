"""Twilio Programmable Voice, through the real twilio library against the fake: the call's
TwiML, what comes back from the call (signed), and how failures are classified."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications.voice import INTERNATIONAL, VoiceError, get_voice_transport
from notifications.voice.twilio import gather_response
from tests.fake_twilio_voice import FROM_NUMBER, PUBLIC, via_client
from tests.notifications.voice.helpers import safety_call
from tests.notifications.voice.urls import received

QUESTION_ZH = "这里是湖滨街道社区应急平台。台风报平安。您是否平安？平安请按1，需要帮助请按2。"


def place(fake, call=None):
    result = get_voice_transport(INTERNATIONAL).place_call(call or safety_call())
    return result, fake.call(result.sid)


def twiml(call):
    return ElementTree.fromstring(call["twiml"])


def test_a_chinese_call_asks_twice_for_one_key_then_says_goodbye(fake_twilio_voice, settings):
    result, call = place(fake_twilio_voice)
    assert result.sid.startswith("CA")
    assert call["to"] == "+15551230001" and call["from"] == FROM_NUMBER
    assert call["status_callback"] == f"{PUBLIC}/voice/twilio/status/42/"
    assert call["status_callback_event"] == ["initiated", "ringing", "answered", "completed"]
    assert call["timeout"] == str(settings.TWILIO_VOICE_RING_SECONDS)
    response = twiml(call)
    gathers = response.findall("Gather")
    assert len(gathers) == 2
    for gather in gathers:
        assert gather.attrib == {"input": "dtmf", "numDigits": "1", "timeout": "8", "method": "POST",
                                 "action": f"{PUBLIC}/voice/twilio/gather/42/?lang=zh-hans"}
        say = gather.find("Say")
        assert say.text == QUESTION_ZH
        assert say.attrib == {"language": "cmn-CN", "voice": "Polly.Zhiyu-Neural"}
    goodbye, hangup = list(response)[2:]
    assert goodbye.tag == "Say" and goodbye.text.startswith("没有收到您的按键")
    assert hangup.tag == "Hangup"


def test_an_english_speaker_hears_english(fake_twilio_voice):
    _, call = place(fake_twilio_voice, safety_call(language="en"))
    say = twiml(call).find("Gather/Say")
    assert say.attrib == {"language": "en-US", "voice": "Polly.Joanna-Neural"}
    assert say.text == ("This is the 湖滨街道 community emergency service. 台风报平安. Are you safe? "
                        "If you are safe, press 1. If you need help, press 2.")
    assert "lang=en" in twiml(call).find("Gather").attrib["action"]


def test_a_drill_says_so_before_every_question(fake_twilio_voice):
    _, call = place(fake_twilio_voice, safety_call(is_drill=True, repeat=3))
    questions = [say.text for say in twiml(call).findall("Gather/Say")]
    assert questions == ["这是一次演练。" + QUESTION_ZH] * 3


def test_a_call_that_asks_nothing_just_speaks(fake_twilio_voice):
    _, call = place(fake_twilio_voice, safety_call(gather=False, repeat=2))
    response = twiml(call)
    assert response.find("Gather") is None
    assert response.find("Say").attrib["loop"] == "2"


def test_answered_and_pressed_2_is_reported_and_thanked(fake_twilio_voice, client):
    result, _ = place(fake_twilio_voice)
    played = fake_twilio_voice.simulate_call(result.sid, "completed", digits="2", post=via_client(client))
    assert [status for _, _, status, _ in played.posts] == [204, 204, 204, 200, 204]
    assert [(e.status, e.digits, e.call_id) for e in received] == [
        ("ringing", "", 42), ("ringing", "", 42), ("answered", "", 42), ("answered", "2", 42), ("completed", "", 42)]
    assert received[3].answer == "help" and received[-1].duration_seconds == 23 and received[-1].is_final
    reply = ElementTree.fromstring(played.gather_replies[0])
    assert reply.find("Say").text.startswith("收到您的求助") and reply.find("Hangup") is not None


def test_pressed_1_is_safe(fake_twilio_voice, client):
    result, _ = place(fake_twilio_voice)
    played = fake_twilio_voice.simulate_call(result.sid, "completed", digits="1", post=via_client(client))
    assert [e.answer for e in received if e.digits] == ["safe"]
    assert "您已报平安" in played.gather_replies[0]


def test_answered_but_pressed_nothing_is_not_an_answer(fake_twilio_voice, client):
    result, _ = place(fake_twilio_voice)
    fake_twilio_voice.simulate_call(result.sid, "completed", post=via_client(client))
    assert received[-1].status == "completed"
    assert all(e.digits == "" and e.answer is None for e in received)


def test_another_key_is_reported_as_pressed_and_asked_again_once(fake_twilio_voice, client):
    result, _ = place(fake_twilio_voice)
    played = fake_twilio_voice.simulate_call(result.sid, "completed", digits=["9", "1"], post=via_client(client))
    assert [e.digits for e in received if e.digits] == ["9", "1"]
    again = ElementTree.fromstring(played.gather_replies[0]).find("Gather")
    assert again.attrib["action"] == f"{PUBLIC}/voice/twilio/gather/42/?lang=zh-hans&attempt=2"
    assert again.find("Say").text.startswith("对不起，没有听清")
    assert "您已报平安" in played.gather_replies[1]


def test_a_second_wrong_key_gets_the_goodbye():
    reply = ElementTree.fromstring(gather_response(42, "7", "en", attempt=2))
    assert reply.find("Gather") is None and reply.find("Say").text.startswith("We did not receive a key press")


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed", "canceled"])
def test_calls_that_were_not_picked_up_end_in_their_own_status(fake_twilio_voice, client, outcome):
    result, _ = place(fake_twilio_voice)
    fake_twilio_voice.simulate_call(result.sid, outcome, post=via_client(client))
    assert [e.status for e in received] == ["ringing", "ringing", outcome]
    assert received[-1].duration_seconds == 0 and received[-1].is_final


def status_form(sid, status="completed"):
    return {"CallSid": sid, "CallStatus": status, "AccountSid": "AC" + "f" * 32, "CallDuration": "12"}


def test_an_unsigned_callback_is_refused(fake_twilio_voice, client):
    response = client.post("/voice/twilio/status/42/", status_form("CA" + "1" * 32))
    assert response.status_code == 403 and received == []


def test_a_callback_signed_with_another_token_is_refused(fake_twilio_voice, client):
    form = status_form("CA" + "1" * 32)
    forged = RequestValidator("not-our-token").compute_signature(f"{PUBLIC}/voice/twilio/status/42/", form)
    response = client.post("/voice/twilio/status/42/", form, HTTP_X_TWILIO_SIGNATURE=forged)
    assert response.status_code == 403 and received == []


def test_a_signed_callback_replayed_to_another_call_is_refused(fake_twilio_voice, client):
    form = status_form("CA" + "1" * 32)
    signature = fake_twilio_voice.sign(f"{PUBLIC}/voice/twilio/status/42/", form)
    response = client.post("/voice/twilio/status/43/", form, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403 and received == []


def test_a_key_changed_after_signing_is_refused(fake_twilio_voice, client):
    url = f"{PUBLIC}/voice/twilio/gather/42/?lang=zh-hans"
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "in-progress", "Digits": "1"}
    signature = fake_twilio_voice.sign(url, form)
    response = client.post("/voice/twilio/gather/42/?lang=zh-hans", form | {"Digits": "2"},
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403 and received == []


def test_the_secondary_token_is_accepted_during_rotation(fake_twilio_voice, client, settings):
    settings.TWILIO_AUTH_TOKEN_SECONDARY = "next-token"
    form = status_form("CA" + "1" * 32)
    signature = RequestValidator("next-token").compute_signature(f"{PUBLIC}/voice/twilio/status/42/", form)
    assert client.post("/voice/twilio/status/42/", form, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204
    assert received[0].status == "completed" and received[0].duration_seconds == 12


@pytest.mark.parametrize("code", [21211, 21215, 13224, 21210])
def test_numbers_and_regions_that_cannot_be_called_are_permanent(fake_twilio_voice, code):
    fake_twilio_voice.fail_to("+15551230001", code)
    with pytest.raises(VoiceError) as error:
        place(fake_twilio_voice)
    assert error.value.permanent and error.value.code == str(code) and not error.value.maybe_placed


def test_too_many_requests_is_transient_and_nothing_was_placed(fake_twilio_voice):
    fake_twilio_voice.script("429")
    with pytest.raises(VoiceError) as error:
        place(fake_twilio_voice)
    assert not error.value.permanent and not error.value.maybe_placed and error.value.code == "20429"
    assert fake_twilio_voice.calls == []


@pytest.mark.parametrize("answer", ["500", "503"])
def test_server_errors_may_have_placed_the_call(fake_twilio_voice, answer):
    fake_twilio_voice.script(answer)
    with pytest.raises(VoiceError) as error:
        place(fake_twilio_voice)
    assert not error.value.permanent and error.value.maybe_placed


def test_a_timeout_may_have_placed_the_call(fake_twilio_voice, settings):
    settings.VOICE_HTTP_TIMEOUT = 0.3
    fake_twilio_voice.script(("delay", 1.0))
    with pytest.raises(VoiceError) as error:
        place(fake_twilio_voice)
    assert error.value.code == "timeout" and error.value.maybe_placed and not error.value.permanent


def test_a_call_accepted_before_a_500_is_found_again_not_placed_twice(fake_twilio_voice):
    since = timezone.now()
    fake_twilio_voice.script("accept_then_500")
    with pytest.raises(VoiceError) as error:
        place(fake_twilio_voice)
    assert error.value.maybe_placed
    transport = get_voice_transport(INTERNATIONAL)
    found = transport.find_placed(to="+15551230001", since=since, exclude_sids=set())
    assert found is not None and found.sid == fake_twilio_voice.calls[0]["sid"]
    assert transport.find_placed(to="+15551230001", since=since, exclude_sids={found.sid}) is None
    assert transport.find_placed(to="+15551230002", since=since, exclude_sids=set()) is None


def test_a_call_from_before_the_window_is_not_adopted(fake_twilio_voice):
    fake_twilio_voice.create_call("+15551230001")
    later = timezone.now() + timedelta(minutes=10)
    assert get_voice_transport(INTERNATIONAL).find_placed(to="+15551230001", since=later, exclude_sids=set()) is None


def test_an_invalid_call_is_refused_before_twilio_is_asked(fake_twilio_voice):
    with pytest.raises(VoiceError) as error:
        place(fake_twilio_voice, safety_call(to="13900000000"))
    assert error.value.permanent and fake_twilio_voice.requests == []
    with pytest.raises(VoiceError, match="needs"):
        place(fake_twilio_voice, safety_call(params={"area": "湖滨街道"}))


def test_sms_and_voice_fakes_share_the_twilio_base_url(fake_twilio, fake_twilio_voice):
    from notifications.transports import get_transport

    sent = get_transport().send(to="+8613900000001", body="测试")
    result, _ = place(fake_twilio_voice)
    assert fake_twilio.messages[0]["sid"] == sent.sid and result.sid.startswith("CA")
