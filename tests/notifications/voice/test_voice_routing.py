"""Which transport a call goes to, and the development and test transports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.utils import timezone

from notifications.voice import (
    DOMESTIC,
    INTERNATIONAL,
    CallbackError,
    VoiceError,
    get_voice_transport,
    locmem,
    voice_route,
)
from notifications.voice.console import ConsoleVoiceTransport
from tests.notifications.voice.helpers import safety_call


def test_mainland_numbers_go_domestic_others_international():
    assert voice_route("+8613900000001") == DOMESTIC
    assert voice_route("+85291234567") == voice_route("+15551230001") == INTERNATIONAL


def test_tests_keep_calls_in_memory_by_default():
    transport = get_voice_transport(DOMESTIC)
    result = transport.place_call(safety_call(to="+8613900000001", is_drill=True))
    assert locmem.calls[-1].sid == result.sid and locmem.calls[-1].text.startswith("这是一次演练。")
    assert transport.find_placed(to="+8613900000001", since=timezone.now() - timedelta(minutes=1),
                                 exclude_sids=set()).sid == result.sid


def test_locmem_failures_can_be_scripted():
    locmem.fail_next(VoiceError("boom", "500", maybe_placed=True))
    with pytest.raises(VoiceError):
        get_voice_transport(INTERNATIONAL).place_call(safety_call())
    assert get_voice_transport(INTERNATIONAL).place_call(safety_call()).sid.startswith("LV")


def test_locmem_describes_what_a_provider_would_report():
    sid = get_voice_transport(INTERNATIONAL).place_call(safety_call()).sid
    assert [(e.status, e.digits) for e in locmem.events(sid, "completed", "2")] == [
        ("ringing", ""), ("answered", ""), ("answered", "2"), ("completed", "")]
    assert [e.status for e in locmem.events(sid, "busy")] == ["ringing", "busy"]


def test_locmem_webhooks_parse_or_refuse():
    request = RequestFactory().post("/x/", '[{"sid": "LV1", "status": "answered", "digits": "1"}]',
                                    content_type="application/json")
    assert get_voice_transport(DOMESTIC).parse_event(request)[0].answer == "safe"
    with pytest.raises(CallbackError):
        get_voice_transport(DOMESTIC).parse_event(RequestFactory().post("/x/", "{", content_type="application/json"))


def test_an_unknown_role_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        get_voice_transport("satellite")


def test_the_console_prints_the_words_with_the_number_masked(capsys):
    result = ConsoleVoiceTransport().place_call(safety_call(to="+8613912345678"))
    out = capsys.readouterr().out
    assert result.sid in out and "****5678" in out and "13912345678" not in out
    assert "您是否平安？平安请按1" in out
    with pytest.raises(CallbackError) as error:
        ConsoleVoiceTransport().parse_event(RequestFactory().post("/x/"))
    assert error.value.http_status == 404
