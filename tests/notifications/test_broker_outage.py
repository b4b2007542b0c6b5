"""A broker outage delays background work and never fails the request or loses what it wrote:
the row is committed, the enqueue failure is logged, and the periodic sweep re-drives it."""

import pytest
from kombu.exceptions import OperationalError as BrokerDown

from notifications import tasks
from notifications.models import InboundSms, SmsMessage, SmsStatus
from notifications.outbox import queue_sms
from notifications.transports import locmem
from tests.notifications.helpers import PUBLIC, inbound_params, signed_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for task in (tasks.send_sms, tasks.drain_outbox, tasks.process_inbound):
        monkeypatch.setattr(task, "apply_async", refuse)
    return monkeypatch


def test_inbound_sms_is_stored_and_acknowledged_while_the_broker_is_down(client, settings, broker_down, django_capture_on_commit_callbacks, caplog):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, "/sms/inbound/", inbound_params("+8613900000099", "HELP"))
    assert response.status_code == 200
    inbound = InboundSms.objects.get()
    assert inbound.processed_at is None
    assert "periodic sweep will re-drive" in caplog.text
    broker_down.undo()
    assert tasks.unprocessed_inbound_ids(older_than_seconds=0) == [inbound.pk]
    InboundSms.objects.filter(pk=inbound.pk).update(received_at=inbound.received_at.replace(year=2025))
    tasks.sweep_outbox()
    inbound.refresh_from_db()
    assert inbound.processed_at is not None and inbound.outcome == "help"


def test_outbox_row_survives_a_broker_outage_and_is_sent_by_the_sweep(broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(template="sms.text", context={"text": "测试"}, purpose="test", idempotency_key="outage-1", phone="+8613900000098")
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and locmem.outbox == []
    broker_down.undo()
    assert tasks.sweep_outbox()["overdue"] is False  # not yet: the send may still be on its way
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.next_attempt_at.replace(year=2025))
    assert tasks.sweep_outbox()["overdue"] is True
    assert SmsMessage.objects.get(pk=message.pk).status == SmsStatus.SENT
    assert len(locmem.outbox) == 1
