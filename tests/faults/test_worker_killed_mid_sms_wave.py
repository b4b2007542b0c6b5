"""A Celery worker SIGKILLed in the middle of sending a wave of SMS: after a restart every
message is sent exactly once (PostgreSQL, Redis broker, the real twilio client against the
fake Twilio on loopback, real worker processes)."""

import collections
import time

import pytest
from django.db import transaction

from notifications import delivery
from notifications.models import SmsMessage, SmsStatus
from notifications.outbox import queue_sms
from notifications.tasks import drain_outbox
from tests.faults.workers import Worker, send_task, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WAVE = 60


def queue_wave() -> list[int]:
    with transaction.atomic():
        rows = [
            queue_sms(template="sms.text", context={"text": f"第{i}号测试通知"}, purpose="fault.wave",
                      idempotency_key=f"fault-wave-{i}", phone=f"+861390000{i:04d}")
            for i in range(WAVE)
        ]
    return [r.pk for r in rows]


def sweep() -> bool:
    """What the periodic sweep (beat) does, once a second here: recover the claims a dead
    worker held (asking Twilio first) and restart draining on the workers' broker."""
    delivery.recover_stuck()
    send_task(drain_outbox)
    time.sleep(1)
    return True


def test_every_message_is_sent_exactly_once_after_a_worker_is_killed_mid_wave(fake, worker_env, monkeypatch):
    monkeypatch.setattr("core.enqueue.enqueue_now", lambda *a, **k: False)  # the workers' broker only
    ids = queue_wave()
    first = Worker(worker_env, "first").start()
    try:
        send_task(drain_outbox)
        wait_for(lambda: len(fake.messages) >= WAVE // 4, 30, "part of the wave to go out")
        first.kill()
    finally:
        first.stop()
    sent_before_restart = len(fake.messages)
    assert sent_before_restart < WAVE, "the kill should land mid-wave"

    second = Worker(worker_env, "second").start()
    try:
        wait_for(lambda: sweep() and SmsMessage.objects.filter(pk__in=ids, status=SmsStatus.SENT).count() == WAVE,
                 60, "every message to be sent")
    finally:
        second.stop()

    creates = collections.Counter(m["to"] for m in fake.messages)
    assert len(creates) == WAVE and set(creates.values()) == {1}, "each recipient texted exactly once"
    assert sorted(SmsMessage.objects.values_list("provider_sid", flat=True)) == sorted(m["sid"] for m in fake.messages)
