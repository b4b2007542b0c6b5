"""Alibaba Cloud SMS: the real SDK against tests/fake_aliyun_sms.py (signature checked)."""

from __future__ import annotations

import json

import pytest

from notifications.transports import get_transport
from notifications.transports.aliyun import (
    UNREACHABLE_CODES,
    UNSUBSCRIBED_CODES,
    AliyunTransport,
    parse_receipt_callback,
    parse_reply_callback,
)
from notifications.transports.base import CallbackError, OutgoingSms, SendResult, TransportError
from tests.fake_aliyun_sms import CALLBACK_TOKEN, template_codes

TOKEN = {"token": CALLBACK_TOKEN}
CODES = template_codes()


def safety(message_id: int, phone: str, *, title: str = "暴雨红色预警", code: str = "K7", **extra) -> OutgoingSms:
    return OutgoingSms(message_id=message_id, to=phone, body=f"【邻里】{title}：您是否平安？", template="emergency.safety.sms",
                       params={"title": title, "code": code}, **extra)


def phone(n: int) -> str:
    return f"+86139{n:08d}"


def test_a_safety_question_goes_out_as_the_approved_template_with_its_values(fake_aliyun_sms):
    [result] = get_transport().send_batch([safety(41, phone(1))])

    call = fake_aliyun_sms.calls[-1]
    assert call.action == "SendSms"
    assert call.params["PhoneNumbers"] == "13900000001"
    assert call.params["TemplateCode"] == CODES["emergency.safety.sms"]["zh-hans"]
    assert json.loads(call.params["TemplateParam"]) == {"title": "暴雨红色预警", "code": "K7"}
    assert call.params["SignName"] == "邻里" and call.params["OutId"] == "41"
    assert result == SendResult(sid=f"{fake_aliyun_sms.messages[0].biz_id}:{phone(1)}", provider_status="sent")


def test_english_speakers_and_drills_get_their_own_approved_templates(fake_aliyun_sms):
    get_transport().send_batch([safety(1, phone(1), language="en"), safety(2, phone(2), is_drill=True)])

    sent = {m.phone: m.template_code for m in fake_aliyun_sms.messages}
    assert sent["13900000001"] == CODES["emergency.safety.sms"]["en"]
    assert sent["13900000002"] == CODES["emergency.safety.sms"]["zh-hans.drill"]


def test_one_alert_to_many_residents_is_one_send_sms_call_with_a_sid_per_resident(fake_aliyun_sms):
    results = get_transport().send_batch([safety(i, phone(i)) for i in range(1, 4)])

    assert fake_aliyun_sms.actions() == ["SendSms"]
    assert fake_aliyun_sms.calls[0].params["PhoneNumbers"] == "13900000001,13900000002,13900000003"
    assert "OutId" not in fake_aliyun_sms.calls[0].params  # one OutId per call: only for a lone recipient
    biz_id = fake_aliyun_sms.messages[0].biz_id
    assert [r.sid for r in results] == [f"{biz_id}:{phone(i)}" for i in range(1, 4)]


def test_messages_with_different_values_share_one_send_batch_sms_call(fake_aliyun_sms):
    results = get_transport().send_batch([safety(i, phone(i), code=f"C{i}") for i in range(1, 4)])

    assert fake_aliyun_sms.actions() == ["SendBatchSms"]
    params = fake_aliyun_sms.calls[0].params
    assert json.loads(params["PhoneNumberJson"]) == ["13900000001", "13900000002", "13900000003"]
    assert [v["code"] for v in json.loads(params["TemplateParamJson"])] == ["C1", "C2", "C3"]
    assert json.loads(params["SignNameJson"]) == ["邻里"] * 3
    assert all(isinstance(r, SendResult) for r in results)


def test_more_than_a_thousand_numbers_take_two_calls_and_a_number_never_appears_twice_in_one(fake_aliyun_sms):
    messages = [safety(i, phone(i)) for i in range(1, 1002)] + [safety(2000, phone(1))]

    results = get_transport().send_batch(messages)

    sizes = [len(c.params["PhoneNumbers"].split(",")) for c in fake_aliyun_sms.calls]
    assert sorted(sizes) == [2, 1000]
    assert len({r.sid for r in results}) == len(messages)


def test_an_invalid_number_fails_alone_and_the_rest_of_the_call_goes_out(fake_aliyun_sms):
    fake_aliyun_sms.fail_to(phone(3), "isv.MOBILE_NUMBER_ILLEGAL")

    results = get_transport().send_batch([safety(i, phone(i)) for i in range(1, 6)])

    assert results[2].code == "isv.MOBILE_NUMBER_ILLEGAL" and results[2].permanent
    assert all(isinstance(r, SendResult) for i, r in enumerate(results) if i != 2)
    assert sorted(m.phone for m in fake_aliyun_sms.messages) == [f"139000000{i:02d}" for i in (1, 2, 4, 5)]


def test_a_number_over_its_frequency_limit_is_tried_again_later(fake_aliyun_sms):
    fake_aliyun_sms.fail_to(phone(1), "isv.BUSINESS_LIMIT_CONTROL")

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "isv.BUSINESS_LIMIT_CONTROL" and not result.permanent and not result.maybe_sent


def test_a_number_that_is_not_a_mainland_mobile_is_refused_without_a_call(fake_aliyun_sms):
    [result] = get_transport().send_batch([safety(1, "+861012345678")])

    assert result.code == "invalid_number" and result.permanent
    assert fake_aliyun_sms.calls == []


@pytest.mark.parametrize("answer", ["500", "503", "accept_then_500"])
def test_a_server_error_may_have_sent_every_message_of_the_call(fake_aliyun_sms, answer):
    fake_aliyun_sms.script(answer)

    results = get_transport().send_batch([safety(i, phone(i)) for i in range(1, 4)])

    assert all(isinstance(r, TransportError) and r.maybe_sent and not r.permanent for r in results)


def test_a_timeout_may_have_sent_the_message(fake_aliyun_sms, settings):
    settings.SMS_HTTP_TIMEOUT = 0.3
    fake_aliyun_sms.script(("delay", 1.0))

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "timeout" and result.maybe_sent


def test_a_throttled_call_is_tried_again_and_was_not_sent(fake_aliyun_sms):
    fake_aliyun_sms.script("throttle")

    results = get_transport().send_batch([safety(1, phone(1)), safety(2, phone(2))])

    assert [(r.code, r.permanent, r.maybe_sent) for r in results] == [("Throttling.User", False, False)] * 2


def test_the_fake_throttles_past_its_rate_limit(fake_aliyun_sms):
    fake_aliyun_sms.set_rate_limit(calls_per_second=1)
    transport = get_transport()

    first = transport.send_batch([safety(1, phone(1))])
    second = transport.send_batch([safety(2, phone(2))])

    assert isinstance(first[0], SendResult) and second[0].code == "Throttling.User"


def test_a_wrong_secret_is_refused_and_is_an_operator_error_not_the_messages_fault(fake_aliyun_sms, settings):
    settings.ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "SignatureDoesNotMatch"
    assert result.operator and not result.permanent and not result.maybe_sent
    assert fake_aliyun_sms.rejected_signatures == 1 and fake_aliyun_sms.messages == []


def test_an_empty_balance_is_an_operator_error(fake_aliyun_sms):
    fake_aliyun_sms.script("isv.AMOUNT_NOT_ENOUGH")

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.operator and not result.permanent


def test_a_template_without_a_mapping_is_refused_with_no_template(fake_aliyun_sms, settings):
    push_only = OutgoingSms(1, phone(1), "x", "task.unstaffed", {"task": "送药"})
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.safety.sms": {"zh-hans.drill": ""}}}

    results = get_transport().send_batch([push_only, safety(2, phone(2), is_drill=True)])

    assert [(r.code, r.permanent) for r in results] == [("no_template", True)] * 2
    assert fake_aliyun_sms.calls == []


def test_a_template_code_aliyun_has_not_approved_is_permanent_and_needs_an_operator(fake_aliyun_sms, settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.safety.sms": {"zh-hans": "SMS_NOT_APPROVED"}}}

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "isv.SMS_TEMPLATE_ILLEGAL" and result.permanent and result.operator


def test_over_long_staff_text_is_cut_to_aliyuns_35_characters(fake_aliyun_sms):
    title = "【紧急】" + "东湖社区三号楼地下车库积水严重请勿前往" * 3

    [result] = get_transport().send_batch([safety(1, phone(1), title=title)])

    sent = fake_aliyun_sms.messages[0].params["title"]
    assert isinstance(result, SendResult)
    assert len(sent) == 35 and sent.startswith("〔紧急〕东湖社区") and sent.endswith("…")


def test_send_goes_through_the_batch_code_and_raises_its_error(fake_aliyun_sms):
    transport = AliyunTransport()

    sent = transport.send(to=phone(1), body="已收到您的回复，谢谢。")
    fake_aliyun_sms.fail_to(phone(2), "isv.MOBILE_NUMBER_ILLEGAL")

    assert fake_aliyun_sms.calls[0].params["TemplateCode"] == CODES["sms.text"]["zh-hans"]
    assert sent.sid.endswith(f":{phone(1)}")
    with pytest.raises(TransportError) as failure:
        transport.send(to=phone(2), body="x", message=safety(2, phone(2)))
    assert failure.value.permanent


def test_a_message_whose_answer_was_lost_is_found_before_sending_again(fake_aliyun_sms):
    fake_aliyun_sms.script("accept_then_500")
    transport = get_transport()
    message = safety(77, phone(1))
    [lost] = transport.send_batch([message])
    since = fake_aliyun_sms.messages[0].sent_at

    found = transport.find_sent(to=phone(1), body=message.body, since=since, exclude_sids=set(), message=message)

    assert lost.maybe_sent and found is not None and found.sid.startswith(f"query:{phone(1)}:")
    assert transport.find_sent(to=phone(2), body="x", since=since, exclude_sids=set(), message=safety(78, phone(2))) is None
    assert transport.find_sent(to=phone(1), body=message.body, since=since, exclude_sids=set()) is None


# --- receipts and replies (HTTP batch push) ---------------------------------------------------
def test_pushed_receipts_map_back_to_the_sid_and_the_message(fake_aliyun_sms):
    fake_aliyun_sms.undeliverable(phone(2), "MK:0001")
    transport = get_transport()
    [one] = transport.send_batch([safety(41, phone(1))])
    [other] = transport.send_batch([safety(42, phone(2))])

    receipts = {r.sid: r for r in parse_receipt_callback(fake_aliyun_sms.report_body(), {}, query=TOKEN)}

    assert receipts[one.sid].status == "delivered" and receipts[one.sid].message_id == 41
    assert receipts[other.sid].status == "undelivered" and receipts[other.sid].error_code in UNREACHABLE_CODES
    assert receipts[other.sid].phone == phone(2) and receipts[other.sid].at is not None


def test_a_receipt_saying_the_person_blacklisted_our_sign_counts_as_unsubscribed():
    body = json.dumps([{"phone_number": "13900000001", "success": False, "err_code": "W-BLACK", "biz_id": "1^0",
                        "out_id": "", "report_time": "2026-07-01 08:00:03"}]).encode()

    [receipt] = parse_receipt_callback(body, {}, token="")

    assert receipt.error_code in UNSUBSCRIBED_CODES and receipt.message_id is None


@pytest.mark.parametrize("text", ["1", "是", "退订", "TD"])
def test_replies_arrive_with_the_sender_in_e164(fake_aliyun_sms, text):
    [reply] = parse_reply_callback(fake_aliyun_sms.reply_body(phone(5), text, sequence_id=123), {}, query=TOKEN)

    assert (reply.phone, reply.body, reply.to, reply.sid) == (phone(5), text, "1234", "aliyun-up:123")


def test_a_reply_without_a_sequence_id_gets_a_stable_sid():
    record = {"phone_number": "13900000001", "send_time": "2026-07-01 08:00:00", "content": "是", "sign_name": "邻里",
              "dest_code": "1234"}
    body = json.dumps([record]).encode()

    first, again = (parse_reply_callback(body, {}, token="")[0] for _ in range(2))

    assert first.sid == again.sid and first.sid.startswith("aliyun-up:")


@pytest.mark.parametrize("body, code", [
    (b"{not json", "bad_json"),
    (b"\xff\xfe[]", "bad_json"),
    (b'[{"phone_number": "13900000001\x00", "success": true, "biz_id": "1"}]', "bad_json"),
    (b'[{"phone_number": "13900000001\\u0000", "success": true, "biz_id": "1"}]', "bad_value"),
    (b'[{"phone_number": "\\ud800", "success": true, "biz_id": "1"}]', "bad_value"),
    (b'{"phone_number": "13900000001"}', "bad_shape"),
    (b'[{"success": true, "biz_id": "1"}]', "bad_shape"),
    (b'[{"phone_number": "13900000001", "success": "yes", "biz_id": "1"}]', "bad_value"),
    (b'[{"phone_number": "call me", "success": true, "biz_id": "1"}]', "bad_value"),
    (b'[{"phone_number": "13900000001", "success": true, "biz_id": "1", "report_time": "yesterday"}]', "bad_value"),
])
def test_a_malformed_receipt_push_is_refused(body, code):
    with pytest.raises(CallbackError) as refused:
        parse_receipt_callback(body, {}, token="")
    assert refused.value.code == code


def test_a_malformed_reply_push_is_refused():
    for body in (b"[1, 2]", b'[{"content": "hi"}]', b'[{"phone_number": "13900000001", "content": "\\udc00"}]'):
        with pytest.raises(CallbackError):
            parse_reply_callback(body, {}, token="")


def test_pushes_without_the_url_token_are_refused(fake_aliyun_sms):
    body = fake_aliyun_sms.reply_body(phone(1), "1")

    for query in (None, {}, {"token": "guess"}):
        with pytest.raises(CallbackError) as refused:
            parse_reply_callback(body, {}, query=query)
        assert refused.value.code == "bad_token"
    assert parse_reply_callback(body, {}, query=TOKEN)


def test_an_over_long_push_is_refused(settings):
    settings.SMS_WEBHOOK_MAX_BYTES = 100

    with pytest.raises(CallbackError) as refused:
        parse_receipt_callback(b"[" + b" " * 200 + b"]", {}, token="")
    assert refused.value.code == "too_large"


def test_a_provider_that_cannot_be_reached_was_not_sent_to(fake_aliyun_sms, settings):
    settings.ALIYUN_SMS_ENDPOINT = "http://127.0.0.1:9"  # nothing listens on the discard port

    [result] = get_transport().send_batch([safety(1, phone(1))])

    assert result.code == "network" and not result.maybe_sent and not result.permanent
