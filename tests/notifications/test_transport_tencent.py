"""Tencent Cloud SMS: the real SDK against tests/fake_tencent_sms.py (TC3 signature checked)."""

from __future__ import annotations

import json

import pytest

from notifications.transports import get_transport
from notifications.transports.base import CallbackError, OutgoingSms, SendResult, TransportError
from notifications.transports.tencent import (
    UNREACHABLE_CODES,
    UNSUBSCRIBED_CODES,
    TencentTransport,
    parse_receipt_callback,
    parse_reply_callback,
)
from tests.fake_tencent_sms import CALLBACK_TOKEN, template_ids

TOKEN = {"token": CALLBACK_TOKEN}
IDS = template_ids()


def safety(message_id: int, phone: str, *, title: str = "暴雨预警", code: str = "K7", **extra) -> OutgoingSms:
    return OutgoingSms(message_id=message_id, to=phone, body=f"【邻里】{title}：您是否平安？", template="emergency.safety.sms",
                       params={"title": title, "code": code}, **extra)


def phone(n: int) -> str:
    return f"+86139{n:08d}"


def test_a_safety_question_goes_out_as_the_approved_template_with_positional_values(fake_tencent_sms):
    [result] = get_transport().send_batch([safety(41, phone(1))])

    call = fake_tencent_sms.calls[-1]
    assert call.action == "SendSms"
    assert call.params["PhoneNumberSet"] == [phone(1)]
    assert call.params["TemplateId"] == IDS["emergency.safety.sms"]["zh-hans"]
    assert call.params["TemplateParamSet"] == ["暴雨预警", "K7"]
    assert call.params["SmsSdkAppId"] == "1400000001" and call.params["SignName"] == "邻里"
    assert call.params["SessionContext"] == "41"
    assert result == SendResult(sid=fake_tencent_sms.messages[0].serial_no, provider_status="sent")


def test_one_alert_to_many_residents_is_one_call_and_each_number_gets_its_own_serial(fake_tencent_sms):
    results = get_transport().send_batch([safety(i, phone(i)) for i in range(1, 4)])

    assert fake_tencent_sms.actions() == ["SendSms"]
    assert fake_tencent_sms.calls[0].params["PhoneNumberSet"] == [phone(i) for i in range(1, 4)]
    assert "SessionContext" not in fake_tencent_sms.calls[0].params
    assert len({r.sid for r in results}) == 3


def test_different_values_mainland_and_foreign_numbers_go_in_separate_calls(fake_tencent_sms):
    messages = [safety(1, phone(1), code="A1"), safety(2, phone(2), code="B2"), safety(3, phone(3), code="A1"),
                safety(4, "+85291234567", code="A1")]

    results = get_transport().send_batch(messages)

    numbers = sorted(sorted(c.params["PhoneNumberSet"]) for c in fake_tencent_sms.calls)
    assert numbers == [["+85291234567"], [phone(1), phone(3)], [phone(2)]]
    assert all(isinstance(r, SendResult) for r in results)


def test_more_than_two_hundred_numbers_take_two_calls(fake_tencent_sms):
    get_transport().send_batch([safety(i, phone(i)) for i in range(1, 202)])

    assert sorted(len(c.params["PhoneNumberSet"]) for c in fake_tencent_sms.calls) == [1, 200]


def test_each_number_keeps_its_own_outcome(fake_tencent_sms):
    fake_tencent_sms.fail_to(phone(2), "FailedOperation.PhoneNumberInBlacklist")
    fake_tencent_sms.fail_to(phone(3), "InvalidParameterValue.IncorrectPhoneNumber")
    fake_tencent_sms.fail_to(phone(4), "LimitExceeded.PhoneNumberDailyLimit")

    ok, unsubscribed, invalid, limited = get_transport().send_batch([safety(i, phone(i)) for i in range(1, 5)])

    assert isinstance(ok, SendResult)
    assert unsubscribed.permanent and unsubscribed.code in UNSUBSCRIBED_CODES
    assert invalid.permanent and invalid.code not in UNSUBSCRIBED_CODES
    assert not limited.permanent and not limited.maybe_sent
    assert [m.phone for m in fake_tencent_sms.messages] == [phone(1)]


@pytest.mark.parametrize("answer", ["500", "503", "accept_then_500", "InternalError.Timeout"])
def test_a_server_failure_may_have_sent_every_message_of_the_call(fake_tencent_sms, answer):
    fake_tencent_sms.script(answer)

    results = get_transport().send_batch([safety(1, phone(1)), safety(2, phone(2))])

    assert all(isinstance(r, TransportError) and r.maybe_sent and not r.permanent for r in results)


def test_a_timeout_may_have_sent_the_message(fake_tencent_sms, settings):
    settings.SMS_HTTP_TIMEOUT = 0.3
    fake_tencent_sms.script(("delay", 1.0))

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "timeout" and result.maybe_sent


def test_a_throttled_call_is_tried_again_and_was_not_sent(fake_tencent_sms):
    fake_tencent_sms.script("throttle")

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert (result.code, result.permanent, result.maybe_sent) == ("RequestLimitExceeded", False, False)


def test_the_fake_limits_numbers_per_second_one_number_at_a_time(fake_tencent_sms):
    fake_tencent_sms.set_rate_limit(messages_per_second=2)

    results = get_transport().send_batch([safety(i, phone(i)) for i in range(1, 4)])

    assert [type(r).__name__ for r in results] == ["SendResult", "SendResult", "TransportError"]
    assert results[2].code == "LimitExceeded.DeliveryFrequencyLimit"


def test_a_wrong_secret_key_is_refused_and_is_an_operator_error(fake_tencent_sms, settings):
    settings.TENCENT_SECRET_KEY = "not-the-key"

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "AuthFailure.SignatureFailure"
    assert result.operator and not result.permanent and not result.maybe_sent
    assert fake_tencent_sms.rejected_signatures == 1 and fake_tencent_sms.messages == []


def test_an_unknown_secret_id_and_an_empty_package_are_operator_errors(fake_tencent_sms, settings):
    fake_tencent_sms.script("FailedOperation.InsufficientBalanceInSmsPackage")
    [no_package] = get_transport().send_batch([safety(1, phone(1))])
    settings.TENCENT_SECRET_ID = "AKIDunknown"
    [unknown] = get_transport().send_batch([safety(1, phone(1))])

    assert no_package.operator and unknown.operator and unknown.code == "AuthFailure.SecretIdNotFound"


def test_a_template_without_a_mapping_is_refused_with_no_template(fake_tencent_sms):
    [result] = get_transport().send_batch([OutgoingSms(1, phone(1), "x", "emergency.alert.push", {"body": "x"})])

    assert (result.code, result.permanent) == ("no_template", True)
    assert fake_tencent_sms.calls == []


def test_staff_text_is_cut_to_six_characters_unless_the_template_allows_more(fake_tencent_sms, settings):
    transport = get_transport()
    transport.send_batch([safety(1, phone(1), title="东湖社区三号楼积水")])
    fake_tencent_sms.variable_limit = 12
    settings.SMS_PROVIDER_TEMPLATES = {"tencent": {**IDS, "emergency.safety.sms": {
        **IDS["emergency.safety.sms"], "limits": {"title": 12}}}}
    get_transport().send_batch([safety(2, phone(2), title="东湖社区三号楼地下车库积水")])

    assert fake_tencent_sms.messages[0].params == ["东湖社区三…", "K7"]
    assert fake_tencent_sms.messages[1].params[0] == "东湖社区三号楼地下车库…"


def test_send_goes_through_the_batch_code(fake_tencent_sms):
    sent = TencentTransport().send(to=phone(1), body="已收到")

    assert fake_tencent_sms.calls[0].params["TemplateId"] == IDS["sms.text"]["zh-hans"]
    assert sent.sid == fake_tencent_sms.messages[0].serial_no


# --- receipts and replies -----------------------------------------------------------------------
def test_pulled_receipts_map_back_to_the_serial_and_the_message_and_come_once(fake_tencent_sms):
    fake_tencent_sms.undeliverable(phone(2), "MK:0001")
    transport = get_transport()
    [one] = transport.send_batch([safety(41, phone(1))])
    [other] = transport.send_batch([safety(42, phone(2))])

    receipts = {r.sid: r for r in transport.pull_receipts()}

    assert receipts[one.sid].status == "delivered" and receipts[one.sid].message_id == 41
    assert receipts[other.sid].status == "undelivered" and receipts[other.sid].error_code in UNREACHABLE_CODES
    assert transport.pull_receipts() == []


def test_receipts_called_back_map_back_to_the_serial(fake_tencent_sms):
    fake_tencent_sms.undeliverable(phone(2), "MK:0001")
    results = get_transport().send_batch([safety(1, phone(1)), safety(2, phone(2))])

    receipts = parse_receipt_callback(fake_tencent_sms.report_body(), {}, query=TOKEN)

    assert [(r.sid, r.phone, r.status) for r in receipts] == [
        (results[0].sid, phone(1), "delivered"), (results[1].sid, phone(2), "undelivered")]


@pytest.mark.parametrize("text", ["1", "是", "退订", "TD"])
def test_replies_arrive_pulled_or_called_back_with_the_same_sid(fake_tencent_sms, text):
    fake_tencent_sms.reply(phone(5), text)
    [pulled] = get_transport().pull_replies()
    at = pulled.at

    [called_back] = parse_reply_callback(fake_tencent_sms.reply_body(phone(5), text, at=at), {}, query=TOKEN)

    assert (pulled.phone, pulled.body) == (phone(5), text)
    assert called_back == pulled


def test_a_message_whose_answer_was_lost_is_found_by_its_session_context(fake_tencent_sms):
    fake_tencent_sms.script("accept_then_500")
    transport = get_transport()
    message = safety(77, phone(1))
    [lost] = transport.send_batch([message])
    since = fake_tencent_sms.messages[0].sent_at

    found = transport.find_sent(to=phone(1), body=message.body, since=since, exclude_sids=set(), message=message)

    assert lost.maybe_sent and found.sid == fake_tencent_sms.messages[0].serial_no
    assert transport.find_sent(to=phone(1), body="x", since=since, exclude_sids={found.sid}, message=message) is None


@pytest.mark.parametrize("body", [
    b"not json",
    b'{"mobile": "13900000001"}',
    b'[{"nationcode": "86", "mobile": "13900000001", "report_status": "MAYBE", "sid": "1"}]',
    b'[{"nationcode": "86", "mobile": "13900000001", "report_status": "SUCCESS"}]',
    b'[{"nationcode": "86", "mobile": "139\\u0000", "report_status": "SUCCESS", "sid": "1"}]',
    b'[{"nationcode": "86", "mobile": "13900000001", "report_status": "SUCCESS", "sid": "\\udfff"}]',
    b'[{"nationcode": "8x6", "mobile": "13900000001", "report_status": "SUCCESS", "sid": "1"}]',
])
def test_a_malformed_status_callback_is_refused(body):
    with pytest.raises(CallbackError):
        parse_receipt_callback(body, {}, token="")


@pytest.mark.parametrize("body", [
    b"",
    b'{"nationcode": "86", "text": "1", "time": 1700000000}',
    b'{"nationcode": "86", "mobile": "13900000001", "text": "1", "time": "soon"}',
    b'{"nationcode": "86", "mobile": "13900000001", "text": "\\ud83d", "time": 1700000000}',
    b'{"nationcode": "86", "mobile": "13900000001", "text": {"a": 1}, "time": 1700000000}',
])
def test_a_malformed_reply_callback_is_refused(body):
    with pytest.raises(CallbackError):
        parse_reply_callback(body, {}, token="")


def test_callbacks_without_the_url_token_are_refused(fake_tencent_sms):
    body = fake_tencent_sms.reply_body(phone(1), "1")

    with pytest.raises(CallbackError) as refused:
        parse_reply_callback(body, {}, query={"token": "guess"})

    assert refused.value.code == "bad_token"
    assert json.loads(body)["mobile"] == "13900000001"
    assert parse_reply_callback(body, {}, query=TOKEN)[0].phone == phone(1)


def test_a_provider_that_cannot_be_reached_was_not_sent_to(fake_tencent_sms, settings):
    settings.TENCENT_SMS_ENDPOINT = "http://127.0.0.1:9"  # nothing listens on the discard port

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "network" and not result.maybe_sent and not result.permanent
