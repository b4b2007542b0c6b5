"""Whatever reaches a voice webhook, parse_event() answers events or a CallbackError - never
another exception (which would be a 500, and for Aliyun a retry storm)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from notifications.voice import DOMESTIC, INTERNATIONAL, CallbackError, get_voice_transport
from tests.fake_aliyun_voice import CALLBACK_TOKEN
from tests.fake_twilio import AUTH_TOKEN
from tests.fake_twilio_voice import PUBLIC

factory = RequestFactory()
REPORT = f"/voice/aliyun/report/?t={CALLBACK_TOKEN}"
GOOD = {"call_id": "116012854210^102813781****", "status_code": "300000", "dtmf": "1", "out_id": "42",
        "status_time": "2026-03-06 16:21:12"}


def aliyun(body: bytes | str):
    request = factory.post(REPORT, body, content_type="application/json")
    return get_voice_transport(DOMESTIC).parse_event(request)


def twilio_signed(raw: bytes, path: str = "/voice/twilio/gather/42/?lang=zh-hans", *, sign: bool = True,
                  content_type: str = "application/x-www-form-urlencoded", method: str = "post"):
    """A request whose signature is valid for whatever Django makes of its body: a signed
    request that is still not what Twilio sends."""
    request = getattr(factory, method)(path, raw, content_type=content_type)
    if sign:
        try:
            form = request.POST
        except Exception:
            form = {}
        request.META["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
    return get_voice_transport(INTERNATIONAL).parse_event(request)


def test_a_well_formed_record_is_taken(fake_aliyun_voice):
    [event] = aliyun(json.dumps([GOOD]))
    assert (event.status, event.digits, event.call_id) == ("answered", "1", 42)


@pytest.mark.parametrize("body", [
    b"", b"not json", b"\xff\xfe\x00", b"{", b"null", b"42", b'"text"', b"[1, 2]", b"[[]]",
    b"[" * 20000 + b"]" * 20000,
    json.dumps([{k: v for k, v in GOOD.items() if k != "call_id"}]),
    json.dumps([{k: v for k, v in GOOD.items() if k != "status_code"}]),
    json.dumps([GOOD | {"call_id": "1^2\u0000"}]),
    json.dumps([GOOD | {"call_id": "1^2\ud800"}]),
    json.dumps([GOOD | {"dtmf": "\ud83d"}]),
    json.dumps([GOOD | {"status_code": "OK"}]),
    json.dumps([GOOD | {"status_code": ["300000"]}]),
    json.dumps([GOOD | {"status_code": True}]),
    json.dumps([GOOD | {"dtmf": "one"}]),
    json.dumps([GOOD | {"out_id": {"id": 42}}]),
    json.dumps([GOOD | {"status_time": "yesterday"}]),
    json.dumps([GOOD | {"duration": "-3"}]),
    json.dumps([{}] * 1001),
], ids=lambda body: repr(body[:40]))
def test_malformed_aliyun_pushes_are_refused(fake_aliyun_voice, body):
    with pytest.raises(CallbackError) as error:
        aliyun(body)
    assert error.value.code == "malformed" and error.value.http_status == 400


def test_an_oversize_push_is_refused_before_it_is_read(fake_aliyun_voice, settings):
    settings.VOICE_WEBHOOK_MAX_BYTES = 1000
    with pytest.raises(CallbackError) as error:
        aliyun(json.dumps([GOOD] * 20))
    assert error.value.code == "too_large" and error.value.http_status == 413


def test_a_get_is_not_a_push(fake_aliyun_voice):
    with pytest.raises(CallbackError):
        get_voice_transport(DOMESTIC).parse_event(factory.get(REPORT))


@pytest.mark.parametrize("raw", [
    b"CallStatus=completed",  # no CallSid
    b"CallSid=CA123&CallStatus=completed",
    b"CallSid=" + b"CA" + b"1" * 32 + b"&Digits=%00",
    b"CallSid=" + b"CA" + b"1" * 32 + b"&Digits=abc",
    b"CallSid=" + b"CA" + b"1" * 32 + b"&Digits=%ED%A0%80",
    b"CallSid=" + b"CA" + b"1" * 32 + b"%00&Digits=1",
    b"CallSid=%ff%fe&Digits=1",
])
def test_signed_but_malformed_twilio_gathers_are_refused(fake_twilio_voice, raw):
    with pytest.raises(CallbackError) as error:
        twilio_signed(raw)
    assert error.value.code == "malformed"


@pytest.mark.parametrize("raw", [
    b"CallSid=" + b"CA" + b"1" * 32 + b"&CallStatus=exploded",
    b"CallSid=" + b"CA" + b"1" * 32 + b"&CallStatus=completed&CallDuration=ten",
    b"CallSid=" + b"CA" + b"1" * 32 + b"&CallStatus=completed&ErrorCode=%00",
    b"CallSid=" + b"CA" + b"1" * 32,
])
def test_signed_but_malformed_twilio_statuses_are_refused(fake_twilio_voice, raw):
    with pytest.raises(CallbackError) as error:
        twilio_signed(raw, "/voice/twilio/status/42/")
    assert error.value.code == "malformed"


def test_a_signed_twilio_json_body_or_get_is_refused(fake_twilio_voice):
    with pytest.raises(CallbackError):
        twilio_signed(b'{"CallSid": "x"}', content_type="application/json")
    with pytest.raises(CallbackError):
        twilio_signed(b"", "/voice/twilio/status/42/?CallSid=x", method="get")


def test_an_unsigned_body_with_a_lone_surrogate_is_a_bad_signature_not_a_crash(fake_twilio_voice):
    request = factory.post("/voice/twilio/status/42/", urlencode({"CallSid": "CA" + "1" * 32}),
                           content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE="\ud800")
    with pytest.raises(CallbackError) as error:
        get_voice_transport(INTERNATIONAL).parse_event(request)
    assert error.value.code == "bad_signature"


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                   lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                                       st.sampled_from(list(GOOD) + ["x"]), inner, max_size=6),
                                   max_leaves=20).map(lambda v: json.dumps([v]).encode())))
def test_anything_at_all_gives_events_or_a_callback_error(fake_aliyun_voice, fake_twilio_voice, body):
    for parse in (lambda: aliyun(body), lambda: twilio_signed(body), lambda: twilio_signed(body, sign=False)):
        try:
            events = parse()
        except CallbackError:
            continue
        assert all(event.sid for event in events)
