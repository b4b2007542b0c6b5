"""Background work in lanes: life-safety fan-outs and life-safety SMS run on the "life_safety"
Celery queue, which has worker processes of its own (Procfile), so a bulk job or a long import
on the default queue never holds them up; a worker started without -Q (make worker, the
embedded footing) consumes both."""

from pathlib import Path

import pytest

from backend.celery import app
from notifications.lanes import Lane
from notifications.outbox import queue_sms, queue_sms_bulk

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def queue_of(name: str) -> str:
    route = app.amqp.router.route({}, name, args=(), kwargs={})
    return route["queue"].name


@pytest.mark.parametrize("name", [
    "community.tasks.fan_out_alert", "community.tasks.fan_out_safety_check", "community.tasks.advance_plan_run",
    "community.tasks.request_welfare_checks", "community.tasks.sweep_welfare_checks",
    "notifications.tasks.send_life_safety_sms", "notifications.tasks.drain_life_safety",
])
def test_life_safety_work_goes_to_its_own_queue(name):
    assert queue_of(name) == "life_safety"


@pytest.mark.parametrize("name", ["notifications.tasks.send_sms", "notifications.tasks.drain_outbox",
                                  "volunteers.tasks.sweep_dispatch", "notifications.tasks.sweep_outbox"])
def test_other_work_stays_on_the_default_queue(name):
    assert queue_of(name) == "celery"


def test_a_worker_without_q_consumes_every_queue():
    assert set(app.amqp.queues) == {"celery", "life_safety"}


def test_the_procfile_runs_a_life_safety_worker_of_its_own():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if ":" in line)
    assert "-Q life_safety" in processes["life_safety"] and "-Q celery" in processes["worker"]


def test_a_life_safety_message_is_sent_by_the_life_safety_task(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        queue_sms(template="sms.help", context={}, purpose="safety_check", idempotency_key="ls", phone="+8613900000501",
                  lane=Lane.LIFE_SAFETY)
        queue_sms(template="sms.help", context={}, purpose="sms_reply", idempotency_key="c", phone="+8613900000502")
    names = [cb.args[0] if isinstance(cb.args[0], str) else cb.args[0].name for cb in callbacks]
    assert names == ["notifications.tasks.send_life_safety_sms", "notifications.tasks.send_sms"]


def test_a_bulk_write_starts_a_life_safety_drainer_per_route(settings, django_capture_on_commit_callbacks):
    settings.SMS_ROUTES = {"+86": ["locmem"], "*": ["locmem"]}
    with django_capture_on_commit_callbacks() as callbacks:
        queue_sms_bulk([dict(template="sms.help", context={}, purpose="safety_check", idempotency_key=f"k{i}",
                             phone=phone, lane=Lane.LIFE_SAFETY)
                        for i, phone in enumerate(["+8613900000503", "+447911123456"])])
    started = sorted((cb.args[0], cb.args[1]) for cb in callbacks)
    assert started == [("notifications.tasks.drain_life_safety", "*"), ("notifications.tasks.drain_life_safety", "+86"),
                       ("notifications.tasks.drain_outbox", "*"), ("notifications.tasks.drain_outbox", "+86")]
