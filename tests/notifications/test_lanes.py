"""Urgency lanes: a message's lane comes from its purpose and what qualifies it (an alert's
severity, an offer's priority, a welfare visit); workers take the most urgent lane first,
vulnerable recipients first within it, then the oldest — so a courtesy reply never delays a
life-safety message, however long the backlog."""

import pytest

from notifications import delivery
from notifications.lanes import Lane, lane_for
from notifications.models import SmsMessage, SmsStatus
from notifications.outbox import queue_sms, queue_sms_bulk
from notifications.templates import register_template
from notifications.transports import locmem

pytestmark = pytest.mark.django_db

register_template("test.lane", zh="【邻里】{text}", en="Linli: {text}")


def item(key, purpose="t", *, phone=None, **extra):
    n = abs(hash(key)) % 10**8
    return dict(template="test.lane", context={"text": key}, purpose=purpose, idempotency_key=key,
                phone=phone or f"+86137{n:08d}", **extra)


@pytest.mark.parametrize(("purpose", "qualifiers", "lane"), [
    ("login_code", {}, Lane.LOGIN),
    ("safety_check", {}, Lane.LIFE_SAFETY),
    ("alert", {"severity": "Extreme"}, Lane.LIFE_SAFETY),
    ("alert", {"severity": "Severe"}, Lane.LIFE_SAFETY),
    ("alert", {"severity": "Moderate"}, Lane.STANDARD),
    ("task_offer", {"priority": "LIFE_SAFETY"}, Lane.LIFE_SAFETY),
    ("task_offer", {"priority": "URGENT", "welfare_visit": True}, Lane.LIFE_SAFETY),
    ("task_offer", {"priority": "ROUTINE"}, Lane.STANDARD),
    ("mobilisation", {}, Lane.STANDARD),
    ("sms_reply", {}, Lane.COURTESY),
    ("task_offer_withdrawn", {}, Lane.COURTESY),
    ("something_new", {}, Lane.STANDARD),
])
def test_the_lane_follows_the_purpose_and_its_qualifiers(purpose, qualifiers, lane):
    assert lane_for(purpose, **qualifiers) == lane


def test_the_table_lives_in_settings(settings):
    settings.SMS_LANES = {"mobilisation": "LIFE_SAFETY", "alert": {"severity": {"Moderate": "LIFE_SAFETY"}}}
    assert lane_for("mobilisation") == Lane.LIFE_SAFETY
    assert lane_for("alert", severity="Moderate") == Lane.LIFE_SAFETY
    assert lane_for("alert", severity="Minor") == Lane.STANDARD  # the default of "*"


def test_a_queued_row_carries_its_lane_and_vulnerability():
    row = queue_sms(**item("a", "alert"), lane=lane_for("alert", severity="Extreme"), is_vulnerable=True)
    assert (row.lane, row.is_vulnerable) == (Lane.LIFE_SAFETY, True)
    assert queue_sms(**item("r", "sms_reply")).lane == Lane.COURTESY


def test_claim_order_is_lane_then_vulnerable_then_oldest():
    queue_sms_bulk([item("courtesy", "sms_reply"), item("standard-old"), item("standard-vulnerable", is_vulnerable=True),
                    item("life", lane=Lane.LIFE_SAFETY), item("life-vulnerable", lane=Lane.LIFE_SAFETY, is_vulnerable=True),
                    item("standard-new"), item("login", "login_code")])
    claimed = delivery._claim_batch(10)
    assert [m.idempotency_key for m in claimed] == [
        "login", "life-vulnerable", "life", "standard-vulnerable", "standard-old", "standard-new", "courtesy"]


class QueueingTransport(locmem.LocmemTransport):
    """The in-memory provider; while the 5th message is being sent, a safety question is
    written (it arrives in the middle of a backlog)."""

    on_send = None

    def send(self, *, to, body, status_callback=None):
        result = super().send(to=to, body=body, status_callback=status_callback)
        if len(locmem.outbox) == 5 and QueueingTransport.on_send:
            QueueingTransport.on_send()
        return result


def test_a_courtesy_reply_never_delays_a_life_safety_message_under_a_backlog(settings):
    settings.SMS_BACKEND = "tests.notifications.test_lanes.QueueingTransport"
    settings.SMS_RATE_PER_SECOND, settings.SMS_RATE_BURST = 400.0, 1.0  # 100 per claim
    queue_sms_bulk([item(f"reply-{i}", "sms_reply") for i in range(250)])
    QueueingTransport.on_send = lambda: queue_sms(**item("question", "safety_check", phone="+8613700000999"),
                                                  lane=Lane.LIFE_SAFETY)
    try:
        delivery.drain(max_seconds=30)
    finally:
        QueueingTransport.on_send = None
    order = [sms.to for sms in locmem.outbox]
    assert len(order) == 251
    # It waited at most for the batch already claimed when it arrived, never behind the backlog.
    assert order.index("+8613700000999") <= 100
    assert SmsMessage.objects.filter(status=SmsStatus.SENT).count() == 251


def test_a_life_safety_question_written_behind_courtesy_replies_goes_first(settings):
    settings.SMS_RATE_PER_SECOND, settings.SMS_RATE_BURST = 1000.0, 1000.0
    queue_sms_bulk([item(f"reply-{i}", "sms_reply") for i in range(150)])
    queue_sms(**item("question", "safety_check", phone="+8613700000998"), lane=Lane.LIFE_SAFETY)
    delivery.drain(max_seconds=30)
    assert locmem.outbox[0].to == "+8613700000998"
