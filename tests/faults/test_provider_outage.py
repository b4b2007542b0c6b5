"""The SMS provider failing for a while (time-outs, 5xx, 429): messages wait, retry with
backoff and go out afterwards — each exactly once, within the rate limit. Real Celery worker
processes on PostgreSQL and Redis, the real twilio client, the fake Twilio on loopback. Time
is compressed: backoff in fractions of a second instead of tens of seconds."""

import collections
import time

import pytest
from django.db import transaction

from notifications import delivery
from notifications.models import SmsMessage, SmsStatus, SmsStatusEvent
from notifications.outbox import queue_sms
from notifications.tasks import drain_outbox
from tests.faults.workers import Worker, send_task, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

MESSAGES = 20
RATE = 10
OUTAGE = ["500", "429", ("delay", 2.5), "503", "accept_then_500", "429"] * 6  # the next 36 creates fail


def max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_messages_wait_out_a_provider_outage_and_go_out_once_within_the_rate(fake, worker_env, monkeypatch):
    monkeypatch.setattr("core.enqueue.enqueue_now", lambda *a, **k: False)
    env = {**worker_env, "SMS_RATE_PER_SECOND": str(RATE), "SMS_RETRY_BASE_SECONDS": "0.3",
           "SMS_RETRY_MAX_SECONDS": "3", "SMS_HTTP_TIMEOUT": "1", "SMS_MAX_ATTEMPTS": "12",
           "SMS_AMBIGUOUS_SETTLE_SECONDS": "4"}  # > the fake's 2.5 s answer to a 1 s time-out
    with transaction.atomic():
        ids = [queue_sms(template="sms.text", context={"text": f"台风预警 {i}"}, purpose="fault.outage",
                         idempotency_key=f"fault-outage-{i}", phone=f"+861380000{i:04d}").pk for i in range(MESSAGES)]
    fake.script(*OUTAGE)
    worker = Worker(env, "outage").start()
    try:
        send_task(drain_outbox)

        def all_sent() -> bool:
            delivery.recover_stuck()  # the periodic sweep, compressed
            send_task(drain_outbox)
            time.sleep(0.5)
            return SmsMessage.objects.filter(pk__in=ids, status=SmsStatus.SENT).count() == MESSAGES

        wait_for(all_sent, 90, "every message to go out after the outage")
    finally:
        worker.stop()

    creates = collections.Counter(m["to"] for m in fake.messages)
    assert len(creates) == MESSAGES and set(creates.values()) == {1}, "nobody texted twice, nobody missed"
    assert max_in_any_second(fake.create_times) <= RATE + 1, "the outage's backlog still went out at the set pace"
    retried = SmsMessage.objects.filter(pk__in=ids, attempts__gt=1).count()
    assert retried > 0, "the outage really made messages wait and retry"
    assert not SmsStatusEvent.objects.filter(message_id__in=ids, to_status=SmsStatus.FAILED).exists()
