"""Cross-border: a mainland number stays with the domestic providers while its route has one,
even when Twilio is listed as a failover (SMS_MAINLAND_STAYS_DOMESTIC, on by default)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery, routing
from notifications.lanes import Lane
from notifications.models import SmsMessage, SmsStatus
from notifications.outbox import queue_sms

from .test_routing import drain_all, providers  # noqa: F401 - the fake providers

pytestmark = pytest.mark.django_db
MAINLAND = "+8613900000101"


def question(key):
    return dict(template="emergency.safety.sms", context={"title": "暴雨报平安"}, purpose="safety_check", idempotency_key=key,
                phone=MAINLAND, expects_reply=True, reply_until=timezone.now() + timedelta(hours=1),
                lane=Lane.LIFE_SAFETY)


@pytest.fixture
def twilio_as_failover(providers, settings):  # noqa: F811
    settings.SMS_ROUTES = {"+86": ["aliyun", "twilio"], "*": ["twilio"]}
    settings.SMS_PROVIDER_COOLDOWN_SECONDS = 60
    yield providers
    routing.resume(["aliyun", "twilio"])


def test_a_mainland_number_waits_for_the_domestic_provider_rather_than_go_abroad(twilio_as_failover):
    twilio_as_failover["aliyun"].script("isv.OUT_OF_SERVICE")  # the domestic provider fails (operator error)
    message = queue_sms(**question("q1"))
    assert routing.provider_names("+86") == ["aliyun"]
    delivery.drain(route="+86", max_seconds=5)
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and twilio_as_failover["twilio"].messages == []
    routing.resume(["aliyun"])
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    drain_all("+86")
    message.refresh_from_db()
    assert (message.status, message.provider) == ("sent", "aliyun")


def test_turned_off_on_purpose_twilio_carries_it(twilio_as_failover, settings):
    settings.SMS_MAINLAND_STAYS_DOMESTIC = False
    twilio_as_failover["aliyun"].script("isv.OUT_OF_SERVICE")
    message = queue_sms(**question("q2"))
    drain_all("+86")
    message.refresh_from_db()
    assert (message.status, message.provider) == ("sent", "twilio")
    assert [m["to"] for m in twilio_as_failover["twilio"].messages] == [MAINLAND]


def test_without_any_domestic_provider_the_route_is_unchanged(providers, settings):  # noqa: F811
    settings.SMS_ROUTES = {"+86": ["twilio"], "*": ["twilio"]}
    assert routing.provider_names("+86") == ["twilio"]
