"""+86 calls through Aliyun IvrCall, with the real SDK against the fake (which checks every
request's signature): the request, the receipts with the key pressed, and failures."""

from __future__ import annotations

import json
import socket

import pytest
from django.utils import timezone

from notifications.voice import DOMESTIC, VoiceError, get_voice_transport
from notifications.voice.aliyun import ACK_BODY, callback_url, tts_params
from tests.fake_aliyun_voice import CALLBACK_TOKEN, SHOW_NUMBER, via_client
from tests.notifications.voice.helpers import safety_call
from tests.notifications.voice.urls import received

MOBILE = "+8613900000001"


def place(fake, call=None):
    result = get_voice_transport(DOMESTIC).place_call(call or safety_call(to=MOBILE))
    return result, fake.call(result.sid)


def test_a_safety_call_is_an_ivr_call_with_the_templates_keys_and_our_id(fake_aliyun_voice):
    result, call = place(fake_aliyun_voice)
    params = call["params"]
    assert call["action"] == "IvrCall" and "^" in result.sid
    assert params["CalledNumber"] == "13900000001" and params["CalledShowNumber"] == SHOW_NUMBER
    assert params["StartCode"] == "TTS_100001" and params["ByeCode"] == "TTS_100015"
    assert call["start_tts_params"] == {"area": "湖滨街道", "title": "台风报平安"}
    assert call["menu"] == {"1": "TTS_100011", "2": "TTS_100013"}
    assert (params["PlayTimes"], params["Timeout"], params["OutId"]) == ("2", "8000", "42")
    assert fake_aliyun_voice.requests[-1].refused == ""


def test_english_and_drill_calls_use_their_own_templates(fake_aliyun_voice):
    _, english = place(fake_aliyun_voice, safety_call(to=MOBILE, language="en"))
    assert english["params"]["StartCode"] == "TTS_100002" and english["menu"] == {"1": "TTS_100012", "2": "TTS_100014"}
    _, drill = place(fake_aliyun_voice, safety_call(to=MOBILE, is_drill=True))
    assert drill["params"]["StartCode"] == "TTS_100003"


def test_english_falls_back_to_the_chinese_template_when_none_is_mapped(fake_aliyun_voice, settings):
    settings.ALIYUN_VOICE_TEMPLATES = {**settings.ALIYUN_VOICE_TEMPLATES, "emergency.safety.voice": {"zh-hans": "TTS_100001"}}
    _, call = place(fake_aliyun_voice, safety_call(to=MOBILE, language="en"))
    assert call["params"]["StartCode"] == "TTS_100001"


def test_a_drill_without_a_drill_template_is_never_placed(fake_aliyun_voice, settings):
    templates = dict(settings.ALIYUN_VOICE_TEMPLATES)
    del templates["emergency.safety.voice.drill"]
    settings.ALIYUN_VOICE_TEMPLATES = templates
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice, safety_call(to=MOBILE, is_drill=True))
    assert error.value.permanent and error.value.code == "template_missing"
    assert fake_aliyun_voice.requests == []


def test_a_call_that_asks_nothing_is_a_plain_tts_call(fake_aliyun_voice):
    _, call = place(fake_aliyun_voice, safety_call(to=MOBILE, gather=False, repeat=3))
    assert call["action"] == "SingleCallByTts"
    assert (call["params"]["TtsCode"], call["params"]["PlayTimes"]) == ("TTS_100001", "3")
    assert call["start_tts_params"]["area"] == "湖滨街道"


def test_a_landline_is_dialled_with_its_trunk_zero(fake_aliyun_voice):
    _, call = place(fake_aliyun_voice, safety_call(to="+8657188776655"))
    assert call["params"]["CalledNumber"] == "057188776655"


def test_numbers_outside_the_mainland_are_refused_before_aliyun_is_asked(fake_aliyun_voice):
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice, safety_call(to="+85291234567"))
    assert error.value.permanent and error.value.code == "not_mainland" and fake_aliyun_voice.requests == []


def test_template_variables_are_kept_under_aliyuns_length_limit_and_lose_links(fake_aliyun_voice, settings):
    settings.VOICE_PARAM_MAX_CHARS = 500
    values = tts_params("emergency.safety.voice", {"area": "区" * 300, "title": "详见 https://x.example/a 台风"})
    assert len(json.dumps(values, ensure_ascii=False, separators=(",", ":"))) < 250
    assert "http" not in values["title"] and values["title"].endswith("台风")
    _, call = place(fake_aliyun_voice, safety_call(to=MOBILE, params={"area": "区" * 300, "title": "台风"}))
    assert len(call["params"]["StartTtsParams"]) < 250


def test_answered_and_pressed_1_comes_back_with_our_call_id(fake_aliyun_voice, client):
    result, _ = place(fake_aliyun_voice)
    answers = fake_aliyun_voice.simulate_call(result.sid, "answered", digits="1", post=via_client(client))
    assert answers == [(200, json.dumps(ACK_BODY, ensure_ascii=False))] * 5
    assert [(e.status, e.digits, e.call_id, e.sid) for e in received] == [
        ("ringing", "", 42, result.sid), ("ringing", "", 42, result.sid), ("answered", "", 42, result.sid),
        ("answered", "1", 42, result.sid), ("completed", "1", 42, result.sid)]
    assert received[3].answer == "safe" and received[-1].duration_seconds == 21
    assert received[3].at is not None and received[3].at.tzinfo is not None


def test_answered_and_pressed_2_needs_help(fake_aliyun_voice, client):
    result, _ = place(fake_aliyun_voice)
    fake_aliyun_voice.simulate_call(result.sid, "answered", digits="2", post=via_client(client))
    assert {e.answer for e in received if e.digits} == {"help"}


@pytest.mark.parametrize("outcome", ["hangup", "answered"])
def test_picked_up_without_a_key_is_completed_but_not_an_answer(fake_aliyun_voice, client, outcome):
    result, _ = place(fake_aliyun_voice)
    fake_aliyun_voice.simulate_call(result.sid, outcome, post=via_client(client))
    assert received[-1].status == "completed" and received[-1].error_code == ""
    assert all(e.digits == "" and e.answer is None for e in received)


@pytest.mark.parametrize(("outcome", "status", "code"), [
    ("no-answer", "no-answer", "200003"), ("busy", "busy", "200002"), ("invalid", "failed", "200004"),
    ("powered-off", "no-answer", "200010"),
])
def test_calls_that_were_not_picked_up_end_in_their_own_status(fake_aliyun_voice, client, outcome, status, code):
    result, _ = place(fake_aliyun_voice)
    fake_aliyun_voice.simulate_call(result.sid, outcome, post=via_client(client))
    final = received[-1]
    assert (final.status, final.error_code, final.duration_seconds, final.call_id) == (status, code, 0, 42)
    assert final.is_final and "answered" not in [e.status for e in received]


def test_several_records_in_one_push_are_all_taken(fake_aliyun_voice, client):
    result, _ = place(fake_aliyun_voice)
    pushes = fake_aliyun_voice.receipts(result.sid, "answered", "2")
    batch = [record for push in pushes for record in push]
    response = client.post(f"/voice/aliyun/report/?t={CALLBACK_TOKEN}", json.dumps(batch), content_type="application/json")
    assert response.status_code == 200 and len(received) == 5


@pytest.mark.parametrize("query", ["", "?t=", "?t=wrong-token", f"?t={CALLBACK_TOKEN}x", "?token=" + CALLBACK_TOKEN])
def test_a_push_without_the_callback_token_is_refused(fake_aliyun_voice, client, query):
    result, _ = place(fake_aliyun_voice)
    body = json.dumps(fake_aliyun_voice.receipts(result.sid, "answered", "1")[3])
    assert client.post(f"/voice/aliyun/report/{query}", body, content_type="application/json").status_code == 403
    assert received == []


def test_no_token_configured_refuses_every_push(fake_aliyun_voice, client, settings):
    settings.ALIYUN_VOICE_CALLBACK_TOKEN = ""
    assert client.post("/voice/aliyun/report/?t=", "[]", content_type="application/json").status_code == 403


def test_the_console_url_carries_the_token():
    from django.conf import settings

    assert callback_url() == f"{settings.PUBLIC_BASE_URL}/voice/aliyun/report/?t={settings.ALIYUN_VOICE_CALLBACK_TOKEN}"


@pytest.mark.parametrize("answer", ["isv.MOBILE_NUMBER_ILLEGAL", ("http200", "isv.MOBILE_NUMBER_ILLEGAL"),
                                    "isv.TTS_TEMPLATE_ILLEGAL"])
def test_an_illegal_number_or_template_is_permanent(fake_aliyun_voice, answer):
    fake_aliyun_voice.script(answer)
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice)
    assert error.value.permanent and not error.value.maybe_placed and error.value.code.startswith("isv.")


@pytest.mark.parametrize("answer", ["isv.BUSINESS_LIMIT_CONTROL", ("http200", "isv.BUSINESS_LIMIT_CONTROL"),
                                    "isv.OUT_OF_SERVICE"])
def test_throttling_and_account_trouble_are_retried_and_placed_nothing(fake_aliyun_voice, answer):
    fake_aliyun_voice.script(answer)
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice)
    assert not error.value.permanent and not error.value.maybe_placed
    assert fake_aliyun_voice.calls == []


def test_the_per_callee_limit_of_one_call_a_minute_is_a_throttle(fake_aliyun_voice):
    fake_aliyun_voice.flow_control = True
    place(fake_aliyun_voice)
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice, safety_call(call_id=43, to=MOBILE))
    assert error.value.code == "isv.BUSINESS_LIMIT_CONTROL" and not error.value.permanent


def test_a_system_error_after_the_call_was_accepted_may_have_placed_it(fake_aliyun_voice):
    fake_aliyun_voice.script("accept_then_500")
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice)
    assert error.value.maybe_placed and error.value.code == "isp.SYSTEM_ERROR" and len(fake_aliyun_voice.calls) == 1
    # Aliyun cannot list calls by number: reconciliation waits for receipts carrying out_id.
    assert get_voice_transport(DOMESTIC).find_placed(to=MOBILE, since=timezone.now(), exclude_sids=set()) is None


def test_a_read_timeout_may_have_placed_the_call(fake_aliyun_voice, settings):
    settings.VOICE_HTTP_TIMEOUT = 0.3
    fake_aliyun_voice.script(("delay", 1.0))
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice)
    assert error.value.code == "timeout" and error.value.maybe_placed


def test_a_connection_that_never_opened_placed_nothing(fake_aliyun_voice, settings):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        settings.ALIYUN_VOICE_ENDPOINT = f"127.0.0.1:{spare.getsockname()[1]}"  # nobody listens there
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice)
    assert error.value.code == "network" and not error.value.maybe_placed and not error.value.permanent


def test_a_wrong_secret_is_refused_by_the_fake_as_by_aliyun(fake_aliyun_voice, settings):
    settings.ALIYUN_VOICE_ACCESS_KEY_SECRET = "not-the-secret"
    with pytest.raises(VoiceError) as error:
        place(fake_aliyun_voice)
    assert error.value.code == "SignatureDoesNotMatch" and not error.value.permanent
    assert fake_aliyun_voice.requests[-1].refused == "SignatureDoesNotMatch" and fake_aliyun_voice.calls == []
