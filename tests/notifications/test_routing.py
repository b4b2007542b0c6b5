"""Routing by destination through the real SDKs against the fake providers: +86 numbers go to
the domestic providers in batches (Aliyun first, Tencent as failover), other numbers to
Twilio exactly as before; a provider that fails for its own reasons (credentials, balance,
throttling, an outage) is paused and the next one carries the messages without losing an
attempt; a time-out is reconciled, never doubled; each account has its own pace."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery, routing
from notifications.lanes import Lane
from notifications.models import SmsMessage, SmsStatus
from notifications.outbox import queue_sms, queue_sms_bulk

pytestmark = pytest.mark.django_db

MAINLAND = "+8613900000101"
ABROAD = "+447911123456"


@pytest.fixture
def providers(settings, fake_aliyun_sms, fake_tencent_sms, fake_twilio):
    settings.SMS_ROUTES = {"+86": ["aliyun", "tencent"], "*": ["twilio"]}
    settings.SMS_PROVIDER_RATES = {**settings.SMS_PROVIDER_RATES, "aliyun": 2000.0, "tencent": 2000.0, "twilio": 1000.0}
    settings.SMS_MAX_DRAINERS = 1
    return {"aliyun": fake_aliyun_sms, "tencent": fake_tencent_sms, "twilio": fake_twilio}


def safety_question(key, phone, title="暴雨报平安", **extra):
    return dict(template="emergency.safety.sms", context={"title": title}, purpose="safety_check", idempotency_key=key,
                phone=phone, expects_reply=True, reply_until=timezone.now() + timedelta(hours=1), lane=Lane.LIFE_SAFETY,
                **extra)


def drain_all(route):
    report = delivery.drain(route=route, max_seconds=30)
    assert not report.exhausted_time
    return report


def test_mainland_numbers_go_to_the_domestic_provider_and_others_to_twilio(providers):
    home = queue_sms(**safety_question("q1", MAINLAND))
    away = queue_sms(**safety_question("q2", ABROAD))
    assert (home.route, away.route) == ("+86", "*")
    drain_all("+86"), drain_all("*")
    home.refresh_from_db(), away.refresh_from_db()
    assert (home.status, home.provider, away.status, away.provider) == ("sent", "aliyun", "sent", "twilio")
    assert [m.phone for m in providers["aliyun"].messages] == ["13900000101"]
    assert [m["to"] for m in providers["twilio"].messages] == [ABROAD]
    assert providers["tencent"].messages == []
    # Aliyun got the approved template and its values; Twilio the rendered text, as before.
    sent = providers["aliyun"].messages[0]
    assert sent.params["title"] == "暴雨报平安" and sent.params["code"] == home.reply_code
    assert "暴雨报平安" in providers["twilio"].messages[0]["body"]


def test_one_provider_call_carries_many_numbers(providers):
    queue_sms_bulk([safety_question(f"q{i}", f"+86139{i:08d}") for i in range(250)])
    drain_all("+86")
    assert SmsMessage.objects.filter(status=SmsStatus.SENT, provider="aliyun").count() == 250
    calls = providers["aliyun"].calls
    # Reply codes differ per person, so each call is a SendBatchSms of up to 100 numbers.
    assert len(calls) <= 6 and {c.action for c in calls} == {"SendBatchSms"}
    assert len({m.provider_sid for m in SmsMessage.objects.all()}) == 250


def test_a_message_everyone_shares_goes_by_sendsms_with_up_to_1000_numbers(providers, settings):
    settings.SMS_MAX_CLAIM = 1000
    settings.SMS_PROVIDER_RATES = {**settings.SMS_PROVIDER_RATES, "aliyun": 20000.0}
    queue_sms_bulk([dict(template="sms.help", context={}, purpose="t", idempotency_key=f"h{i}", phone=f"+86139{i:08d}")
                    for i in range(1000)])
    drain_all("+86")
    assert [c.action for c in providers["aliyun"].calls] == ["SendSms"]
    assert len(providers["aliyun"].calls[0].params["PhoneNumbers"].split(",")) == 1000


@pytest.mark.parametrize("failure", ["isv.AMOUNT_NOT_ENOUGH", "throttle", "InvalidAccessKeyId.Inactive"])
def test_when_the_first_provider_fails_the_second_carries_the_message(providers, failure, caplog):
    providers["aliyun"].script(failure)
    message = queue_sms(**safety_question("q1", MAINLAND))
    with caplog.at_level(logging.WARNING):
        drain_all("+86")
    message.refresh_from_db()
    assert (message.status, message.provider, message.attempts) == ("sent", "tencent", 1)
    assert len(providers["tencent"].messages) == 1 and routing.is_paused("aliyun")


def test_a_provider_that_may_have_taken_the_message_is_asked_before_anything_is_resent(providers, settings):
    """A 5xx or a read time-out may hide an accepted message: it is not failed over (that could
    text twice) but looked for at the same provider once it has settled."""
    settings.SMS_AMBIGUOUS_SETTLE_SECONDS = 0
    providers["aliyun"].script("accept_then_500")
    message = queue_sms(**safety_question("q1", MAINLAND))
    drain_all("+86")
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and message.reconcile_since is not None and message.provider == "aliyun"
    assert providers["tencent"].messages == []
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    drain_all("+86")
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and len(providers["aliyun"].messages) == 1  # found, not resent
    assert "QuerySendDetails" in providers["aliyun"].actions() and providers["tencent"].messages == []


def test_an_operator_error_pauses_the_provider_for_every_worker_and_says_so(providers, caplog, settings):
    settings.SMS_PROVIDER_COOLDOWN_SECONDS = 60
    providers["aliyun"].script("isv.AMOUNT_NOT_ENOUGH")
    with caplog.at_level(logging.ERROR):
        queue_sms(**safety_question("q1", MAINLAND))
        drain_all("+86")
    assert routing.is_paused("aliyun") and "needs an operator" in caplog.text
    queue_sms(**safety_question("q2", "+8613900000102"))
    drain_all("+86")
    assert len(providers["aliyun"].calls) == 1 and len(providers["tencent"].messages) == 2


def test_with_no_provider_left_messages_wait_without_losing_an_attempt(providers, settings):
    settings.SMS_ROUTES = {"+86": ["aliyun"], "*": ["twilio"]}
    settings.SMS_PROVIDER_COOLDOWN_SECONDS = 60
    providers["aliyun"].script("isv.OUT_OF_SERVICE")
    message = queue_sms(**safety_question("q1", MAINLAND))
    report = delivery.drain(route="+86", max_seconds=5)
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and message.attempts == 0 and message.error_code == "isv.OUT_OF_SERVICE"
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert delivery.drain(route="+86", max_seconds=5).paused_for > 50 and report.attempted == 1
    routing.resume(["aliyun"])
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    drain_all("+86")
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_a_throttled_batch_with_nowhere_else_to_go_is_sent_again_after_a_moment(providers, settings):
    settings.SMS_ROUTES = {"+86": ["aliyun"], "*": ["twilio"]}
    settings.SMS_PROVIDER_THROTTLE_SECONDS = 0.05
    providers["aliyun"].script("throttle")
    queue_sms_bulk([safety_question(f"q{i}", f"+86139{i:08d}") for i in range(3)])
    drain_all("+86")
    rows = SmsMessage.objects.all()
    assert {(m.status, m.attempts, m.provider) for m in rows} == {("sent", 1, "aliyun")}
    assert [c.action for c in providers["aliyun"].calls] == ["SendBatchSms", "SendBatchSms"]  # the same batch again


def test_one_numbers_own_limit_fails_over_without_pausing_the_provider(providers, settings):
    settings.SMS_ROUTES = {"+86": ["tencent", "aliyun"], "*": ["twilio"]}
    providers["tencent"].fail_to(MAINLAND, "LimitExceeded.PhoneNumberThirtySecondLimit")
    queue_sms_bulk([safety_question("q1", MAINLAND), safety_question("q2", "+8613900000102")])
    drain_all("+86")
    assert not routing.is_paused("tencent")
    assert dict(SmsMessage.objects.values_list("phone", "provider")) == {MAINLAND: "aliyun", "+8613900000102": "tencent"}


def test_a_template_one_provider_lacks_goes_through_the_other(providers, settings):
    settings.SMS_PROVIDER_TEMPLATES = {**settings.SMS_PROVIDER_TEMPLATES, "aliyun": {}}
    message = queue_sms(**safety_question("q1", MAINLAND))
    drain_all("+86")
    message.refresh_from_db()
    assert (message.status, message.provider) == ("sent", "tencent") and not routing.is_paused("aliyun")


def test_what_staff_typed_only_fills_a_template_variable_cut_to_the_providers_limit(providers):
    title = "【紧急】" + "暴雨" * 40 + "\n请转移"
    queue_sms(**safety_question("q1", MAINLAND, title=title))
    drain_all("+86")
    value = providers["aliyun"].messages[0].params["title"]
    assert len(value) <= 35 and "【" not in value and "\n" not in value and value.endswith("…")


def test_each_provider_account_keeps_its_own_pace(providers, settings):
    settings.SMS_PROVIDER_RATES = {**settings.SMS_PROVIDER_RATES, "aliyun": 40.0}  # 10 per call
    queue_sms_bulk([safety_question(f"q{i}", f"+86139{i:08d}") for i in range(40)])
    started = timezone.now()
    drain_all("+86")
    took = (timezone.now() - started).total_seconds()
    assert SmsMessage.objects.filter(status=SmsStatus.SENT).count() == 40
    assert took >= 0.7  # 40 at 40/s with a 10-message burst: at least 0.75 s
    assert max(len(c.params.get("PhoneNumberJson", "").split(",")) for c in providers["aliyun"].calls) <= 10


def test_twilio_keeps_working_as_before_when_no_route_is_configured(fake_twilio):
    message = queue_sms(template="sms.help", context={}, purpose="t", idempotency_key="k", phone=MAINLAND)
    assert message.route == "*"
    delivery.deliver(message.pk, pace=False)
    message.refresh_from_db()
    assert (message.status, message.provider) == ("sent", "default") and len(fake_twilio.messages) == 1
