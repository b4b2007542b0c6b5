"""Receipts and replies from the domestic providers, through the real HTTP views (token-checked,
size-limited, answering what each provider expects) and Tencent's pull APIs, into the same
status machine, reply router, opt-out handling and unreachable bookkeeping as Twilio's."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery, receipts
from notifications.consent import is_opted_out
from notifications.lanes import Lane
from notifications.models import InboundSms, SmsMessage, SmsStatus, SmsUnreachableNumber
from notifications.outbox import queue_sms
from notifications.tasks import pull_sms_reports
from notifications.unreachable import is_unreachable
from tests.fake_aliyun_sms import CALLBACK_TOKEN as ALIYUN_TOKEN
from tests.fake_tencent_sms import CALLBACK_TOKEN as TENCENT_TOKEN

pytestmark = pytest.mark.django_db

PHONE = "+8613900000201"


@pytest.fixture
def routed(settings, fake_aliyun_sms, fake_tencent_sms):
    settings.SMS_ROUTES = {"+86": ["aliyun", "tencent"], "*": []}
    settings.SMS_PROVIDER_RATES = {**settings.SMS_PROVIDER_RATES, "aliyun": 1000.0, "tencent": 1000.0}
    settings.SMS_UNREACHABLE_AFTER_FAILURES = 2
    return {"aliyun": fake_aliyun_sms, "tencent": fake_tencent_sms}


def question(key="q1", phone=PHONE):
    return queue_sms(template="emergency.safety.sms", context={"title": "暴雨报平安"}, purpose="test.question",
                     idempotency_key=key, phone=phone, expects_reply=True, lane=Lane.LIFE_SAFETY,
                     reply_until=timezone.now() + timedelta(hours=1))


def send(message):
    delivery.drain(route=message.route, max_seconds=10)
    message.refresh_from_db()
    return message


def post(client, path, body, token, capture=None, **extra):
    def go():
        return client.post(f"{path}?token={token}", data=body, content_type="application/json", **extra)

    if capture is None:
        return go()
    with capture(execute=True):
        return go()


# --- Aliyun (HTTP batch push) -------------------------------------------------------------------
def test_an_aliyun_receipt_marks_the_message_delivered(client, routed):
    message = send(question())
    response = post(client, "/sms/aliyun/report/", routed["aliyun"].report_body(), ALIYUN_TOKEN)
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "成功"}
    message.refresh_from_db()
    assert message.status == SmsStatus.DELIVERED and message.provider == "aliyun"


@pytest.mark.parametrize(("token", "status"), [("wrong", 403), ("", 403)])
def test_a_callback_without_the_token_is_refused_and_changes_nothing(client, routed, token, status):
    message = send(question())
    response = post(client, "/sms/aliyun/report/", routed["aliyun"].report_body(), token)
    assert response.status_code == status
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT


def test_an_oversized_or_unreadable_callback_is_refused(client, routed, settings):
    settings.SMS_WEBHOOK_MAX_BYTES = 1000
    assert post(client, "/sms/aliyun/reply/", b"[" + b" " * 2000 + b"]", ALIYUN_TOKEN).status_code == 413
    assert post(client, "/sms/aliyun/reply/", b"not json", ALIYUN_TOKEN).status_code == 400
    assert post(client, "/sms/tencent/reply/", b'{"mobile": "1\\u0000"}', TENCENT_TOKEN).status_code == 400
    assert not InboundSms.objects.exists()


def test_an_aliyun_reply_answers_the_prompt_through_the_same_router(client, routed, django_capture_on_commit_callbacks):
    message = send(question())
    response = post(client, "/sms/aliyun/reply/", routed["aliyun"].reply_body(PHONE, f"1 {message.reply_code}"),
                    ALIYUN_TOKEN, capture=django_capture_on_commit_callbacks)
    assert response.json() == {"code": 0, "msg": "成功"}
    inbound = InboundSms.objects.get()
    assert (inbound.provider, inbound.phone, inbound.outcome, inbound.prompt_id) == ("aliyun", PHONE, "answered", message.pk)


def test_a_redelivered_reply_is_processed_once(client, routed, django_capture_on_commit_callbacks):
    send(question())
    body = routed["aliyun"].reply_body(PHONE, "1", sequence_id=123456789)
    for _ in range(2):
        post(client, "/sms/aliyun/reply/", body, ALIYUN_TOKEN, capture=django_capture_on_commit_callbacks)
    assert InboundSms.objects.count() == 1


@pytest.mark.parametrize("word", ["TD", "T", "回复TD退订", "退订", "td"])
def test_chinese_opt_out_words_opt_out_and_are_confirmed_in_chinese(client, routed, word, django_capture_on_commit_callbacks):
    post(client, "/sms/aliyun/reply/", routed["aliyun"].reply_body(PHONE, word), ALIYUN_TOKEN,
         capture=django_capture_on_commit_callbacks)
    assert is_opted_out(PHONE)
    confirmation = SmsMessage.objects.get(purpose="sms_opt_out_confirmation")
    assert "退订" in confirmation.body and "订阅" in confirmation.body and confirmation.lane == Lane.COURTESY
    send(confirmation)  # sent although the number opted out: it is the confirmation
    assert confirmation.status == SmsStatus.SENT
    assert routed["aliyun"].sent_to(PHONE)[-1].template_code


def test_cancel_in_chinese_is_not_an_opt_out(client, routed, django_capture_on_commit_callbacks):
    send(question())
    post(client, "/sms/aliyun/reply/", routed["aliyun"].reply_body(PHONE, "取消"), ALIYUN_TOKEN,
         capture=django_capture_on_commit_callbacks)
    assert not is_opted_out(PHONE) and InboundSms.objects.get().outcome == "unrecognised"


def test_unsubscribed_receipts_record_an_opt_out(client, routed):
    routed["aliyun"].undeliverable(PHONE, "DBBLACK")
    send(question())
    post(client, "/sms/aliyun/report/", routed["aliyun"].report_body(), ALIYUN_TOKEN)
    assert is_opted_out(PHONE)


def test_repeated_unreachable_receipts_mark_the_number_and_it_is_not_texted_again(client, routed):
    routed["aliyun"].undeliverable(PHONE, "MK:0001")  # 空号
    for key in ("q1", "q2"):
        message = send(question(key))
        post(client, "/sms/aliyun/report/", routed["aliyun"].report_body(), ALIYUN_TOKEN)
        message.refresh_from_db()
        assert message.status == SmsStatus.UNDELIVERED and message.error_code == "MK:0001"
    assert is_unreachable(PHONE) and SmsUnreachableNumber.objects.get().failures == 2
    refused = question("q3")
    assert refused.status == SmsStatus.REFUSED and refused.error_code == "unreachable"


def test_a_delivery_or_a_reply_clears_the_mark(client, routed, django_capture_on_commit_callbacks):
    from notifications.unreachable import note_unreachable

    note_unreachable(PHONE, "MK:0001"), note_unreachable(PHONE, "MK:0001")
    assert is_unreachable(PHONE)
    post(client, "/sms/aliyun/reply/", routed["aliyun"].reply_body(PHONE, "帮助"), ALIYUN_TOKEN,
         capture=django_capture_on_commit_callbacks)
    assert not is_unreachable(PHONE)


# --- Tencent (callbacks and pull) ---------------------------------------------------------------
def test_a_tencent_status_callback_marks_delivery(client, routed, settings):
    settings.SMS_ROUTES = {"+86": ["tencent"], "*": []}
    message = send(question())
    response = post(client, "/sms/tencent/report/", routed["tencent"].report_body(), TENCENT_TOKEN)
    assert response.status_code == 200 and response.json() == {"result": 0, "errmsg": "OK"}
    message.refresh_from_db()
    assert message.status == SmsStatus.DELIVERED and message.provider == "tencent"


def test_a_tencent_reply_callback_is_routed(client, routed, settings, django_capture_on_commit_callbacks):
    settings.SMS_ROUTES = {"+86": ["tencent"], "*": []}
    message = send(question())
    post(client, "/sms/tencent/reply/", routed["tencent"].reply_body(PHONE, f"是{message.reply_code}"), TENCENT_TOKEN,
         capture=django_capture_on_commit_callbacks)
    inbound = InboundSms.objects.get()
    assert (inbound.provider, inbound.outcome) == ("tencent", "answered")


def test_tencent_receipts_and_replies_are_pulled_once(routed, settings, django_capture_on_commit_callbacks):
    settings.SMS_ROUTES = {"+86": ["tencent"], "*": []}
    message = send(question())
    routed["tencent"].reply(PHONE, f"1 {message.reply_code}")
    with django_capture_on_commit_callbacks(execute=True):
        report = pull_sms_reports()
    assert report == {"tencent": 2}
    message.refresh_from_db()
    assert message.status == SmsStatus.DELIVERED and InboundSms.objects.get().outcome == "answered"
    with django_capture_on_commit_callbacks(execute=True):
        pull_sms_reports()  # only the receipt of our answer to them is left
    assert InboundSms.objects.count() == 1 and "PullSmsReplyStatus" in routed["tencent"].actions()
    assert SmsMessage.objects.get(purpose="sms_reply").status == SmsStatus.DELIVERED


def test_the_same_reply_by_callback_and_by_pull_counts_once(client, routed, settings):
    settings.SMS_ROUTES = {"+86": ["tencent"], "*": []}
    send(question())
    at = timezone.now().replace(microsecond=0)
    routed["tencent"].reply(PHONE, "1", at=at)
    post(client, "/sms/tencent/reply/", routed["tencent"].reply_body(PHONE, "1", at=at), TENCENT_TOKEN)
    receipts.pull_from_providers()
    assert InboundSms.objects.count() == 1


def test_a_receipt_for_an_unknown_message_is_acknowledged_and_ignored(client, routed):
    body = json.dumps([{"phone_number": "13900000999", "send_time": "2024-05-01 08:00:00", "report_time": "",
                        "success": True, "err_code": "DELIVERED", "err_msg": "", "sms_size": "1", "biz_id": "1^0",
                        "out_id": ""}]).encode()
    assert post(client, "/sms/aliyun/report/", body, ALIYUN_TOKEN).status_code == 200
