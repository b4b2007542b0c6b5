"""Delivery status from Twilio's callbacks: signed, monotonic, duplicates and late arrivals
change nothing, every real transition recorded once."""

import pytest

from notifications.consent import is_opted_out
from notifications.models import SmsMessage, SmsStatus, SmsStatusEvent
from notifications.outbox import queue_sms
from notifications.tasks import send_sms
from notifications.templates import register_template
from tests.notifications.helpers import signed_post

pytestmark = pytest.mark.django_db

register_template("test.cb", zh="【邻里】{text}", en="Linli: {text}")


@pytest.fixture
def sent(fake_twilio):
    message = queue_sms(template="test.cb", context={"text": "测试"}, purpose="t", idempotency_key="k", phone="+8613900000001")
    send_sms(message.pk)
    message.refresh_from_db()
    return message


def callback(client, message, status, error_code=None, path=None):
    params = {"MessageSid": message.provider_sid, "MessageStatus": status, "AccountSid": "AC" + "f" * 32,
              "To": message.phone}
    if error_code:
        params["ErrorCode"] = str(error_code)
    return signed_post(client, path or f"/sms/status/{message.pk}/", params)


def transitions(message):
    return list(SmsStatusEvent.objects.filter(message=message, source="callback").values_list("from_status", "to_status"))


def test_delivered_then_late_sent_and_duplicate_delivered_end_delivered(client, sent):
    for status in ("sent", "delivered", "sent", "delivered"):
        assert callback(client, sent, status).status_code == 204
    sent.refresh_from_db()
    assert sent.status == SmsStatus.DELIVERED and sent.provider_status == "delivered"
    assert transitions(sent) == [("sent", "delivered")]


def test_out_of_order_final_status_wins_and_never_regresses(client, sent):
    callback(client, sent, "undelivered", error_code=30003)
    callback(client, sent, "sending")
    callback(client, sent, "delivered")
    sent.refresh_from_db()
    assert sent.status == SmsStatus.UNDELIVERED and sent.error_code == "30003"
    assert transitions(sent) == [("sent", "undelivered")]


def test_a_callback_that_beats_the_worker_still_finds_its_message_by_id(client, fake_twilio):
    message = queue_sms(template="test.cb", context={"text": "x"}, purpose="t", idempotency_key="k", phone="+8613900000001")
    SmsMessage.objects.filter(pk=message.pk).update(status=SmsStatus.SENDING)
    signed_post(client, f"/sms/status/{message.pk}/", {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"})
    message.refresh_from_db()
    assert message.status == SmsStatus.DELIVERED and message.provider_sid == "SM" + "9" * 32


def test_callbacks_without_our_id_are_matched_by_sid(client, sent):
    callback(client, sent, "delivered", path="/sms/status/")
    assert SmsMessage.objects.get(pk=sent.pk).status == SmsStatus.DELIVERED


def test_a_failed_callback_with_21610_records_the_opt_out(client, sent):
    callback(client, sent, "failed", error_code=21610)
    assert SmsMessage.objects.get(pk=sent.pk).status == SmsStatus.FAILED
    assert is_opted_out(sent.phone)


def test_a_callback_for_another_sid_does_not_touch_the_message(client, sent):
    signed_post(client, f"/sms/status/{sent.pk}/", {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed"})
    assert SmsMessage.objects.get(pk=sent.pk).status == SmsStatus.SENT


@pytest.mark.parametrize("status", ["", "exploded"])
def test_unknown_or_missing_status_changes_nothing(client, sent, status):
    response = callback(client, sent, status)
    assert response.status_code in (204, 400)
    assert SmsMessage.objects.get(pk=sent.pk).status == SmsStatus.SENT


def test_unsigned_callbacks_are_refused(client, sent):
    response = client.post(f"/sms/status/{sent.pk}/", {"MessageSid": sent.provider_sid, "MessageStatus": "failed"})
    assert response.status_code == 403
    assert SmsMessage.objects.get(pk=sent.pk).status == SmsStatus.SENT


@pytest.mark.parametrize("code", [30003, 30005, 30006])
def test_repeated_unreachable_callbacks_mark_the_number_and_stop_texting_it(client, fake_twilio, settings, code):
    from notifications.unreachable import is_unreachable

    settings.SMS_UNREACHABLE_AFTER_FAILURES = 2
    for key in ("u1", "u2"):
        message = queue_sms(template="test.cb", context={"text": key}, purpose="t", idempotency_key=key,
                            phone="+8613900000002")
        send_sms(message.pk)
        message.refresh_from_db()
        assert not is_unreachable(message.phone)
        callback(client, message, "undelivered", error_code=code)
    assert is_unreachable("+8613900000002")
    refused = queue_sms(template="test.cb", context={"text": "u3"}, purpose="t", idempotency_key="u3",
                        phone="+8613900000002")
    assert (refused.status, refused.error_code) == (SmsStatus.REFUSED, "unreachable")
    login = queue_sms(template="login.code", context={"code": "123456", "minutes": 5}, purpose="login_code",
                      idempotency_key="u4", phone="+8613900000002", redact=("code",))
    assert login.status == SmsStatus.QUEUED  # someone asked for it just now


def test_a_delivery_clears_earlier_unreachable_reports(client, sent, settings):
    from notifications.models import SmsUnreachableNumber

    callback(client, sent, "undelivered", error_code=30003)
    assert SmsUnreachableNumber.objects.get().failures == 1
    other = queue_sms(template="test.cb", context={"text": "again"}, purpose="t", idempotency_key="k2", phone=sent.phone)
    send_sms(other.pk)
    other.refresh_from_db()
    callback(client, other, "delivered")
    assert not SmsUnreachableNumber.objects.exists()
