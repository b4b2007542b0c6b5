"""Offers expire at their deadline, not at the next sweep: a wave's commit sends one
countdown message (volunteers.tasks.expire_task_offers) due at its deadline. The message is
idempotent — only offers still PENDING and past their deadline move, by a conditional
UPDATE — so a redelivery, the sweep or an answer that came first leave nothing counted twice;
and the sweep remains the backstop when the message is lost (a killed worker)."""

import pytest
from celery.app.task import Task as CeleryTask

from tests.volunteers.conftest import new_task
from volunteers.dispatch.sweep import EXPIRE_OFFERS
from volunteers.models import Offer, OfferStatus, Task, TaskEvent
from volunteers.services import respond_to_offer
from volunteers.tasks import expire_task_offers, sweep_dispatch

from .conftest import helper

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Every message handed to the broker (name, args, countdown); still sent (eagerly)."""
    messages = []
    original = CeleryTask.apply_async

    def record(self, args=None, kwargs=None, **options):
        messages.append((self.name, tuple(args or ()), options.get("countdown")))
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(CeleryTask, "apply_async", record)
    return messages


def urgent(world, committed, headcount=1):
    with committed():
        return new_task(world.grid_a1, title="转移物资", headcount=headcount, priority="URGENT")


def wave(task, number=1):
    return list(Offer.objects.filter(task=task, wave=number).order_by("rank"))


def test_a_wave_sends_one_expiry_message_due_at_its_deadline(world, committed, clock, sent):
    for i in range(1, 5):
        helper(world.grid_a1, 100 * i)
    task = urgent(world, committed)  # 2 offers, 10 minutes to answer
    first = wave(task)
    expiries = [m for m in sent if m[0] == EXPIRE_OFFERS]
    assert len(first) == 2 and len(expiries) == 1
    _, (task_id, deadline), countdown = expiries[0]
    assert task_id == task.pk and deadline == first[0].expires_at.isoformat()
    assert countdown == pytest.approx(600, abs=1)
    # Run early (eagerly, at commit): nothing is due, nothing moves.
    assert {o.status for o in wave(task)} == {OfferStatus.PENDING}


def test_the_message_at_the_deadline_expires_once_and_sends_the_next_wave(world, committed, clock):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 7)]
    task = urgent(world, committed)
    first = wave(task)
    with committed():
        respond_to_offer(first[0], accept=False)  # answered: the message must not touch it
    clock.advance(600)
    deadline = first[1].expires_at.isoformat()
    with committed():
        assert expire_task_offers.delay(task.pk, deadline).get() == 1
    assert [o.status for o in wave(task)] == [OfferStatus.DECLINED, OfferStatus.EXPIRED]
    assert [o.user_id for o in wave(task, 2)] == [p.user_id for p in people[2:4]]  # not waiting for the sweep
    # A redelivered message and the sweep after it find nothing to do: nothing counted twice.
    with committed():
        assert expire_task_offers.delay(task.pk, deadline).get() == 0
        assert sweep_dispatch.delay().get()["expired"] == 0
    assert TaskEvent.objects.filter(task=task, kind="EXPIRED").count() == 1
    people[1].refresh_from_db()
    assert (people[1].offered_count, people[1].expired_count) == (1, 1)
    assert Task.objects.get(pk=task.pk).wave_count == 2


def test_a_lost_expiry_message_leaves_it_to_the_sweep(world, committed, clock, monkeypatch):
    for i in range(1, 5):
        helper(world.grid_a1, 100 * i)
    original = CeleryTask.apply_async

    def lose_expiries(self, args=None, kwargs=None, **options):
        if self.name == EXPIRE_OFFERS:
            return None  # taken by a worker that was then killed
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(CeleryTask, "apply_async", lose_expiries)
    task = urgent(world, committed)
    clock.advance(600)
    assert {o.status for o in wave(task)} == {OfferStatus.PENDING}
    with committed():
        assert sweep_dispatch.delay().get()["expired"] == 2
    assert {o.status for o in wave(task)} == {OfferStatus.EXPIRED} and len(wave(task, 2)) == 2
    assert TaskEvent.objects.filter(task=task, kind="EXPIRED").count() == 2


def test_the_sweep_resends_the_message_of_a_deadline_before_the_next_sweep(world, committed, clock, sent):
    """A killed worker held the countdown message: the sweep before the deadline sends it again."""
    for i in range(1, 5):
        helper(world.grid_a1, 100 * i)
    task = urgent(world, committed)
    deadline = wave(task)[0].expires_at.isoformat()
    clock.advance(560)  # 40 s left: beyond the horizon
    with committed():
        sweep_dispatch.delay()
    assert [m for m in sent if m[0] == EXPIRE_OFFERS and m[2] < 590] == []
    clock.advance(30)  # 10 s left: within it
    with committed():
        sweep_dispatch.delay()
    resent = [m for m in sent if m[0] == EXPIRE_OFFERS and m[2] < 590]
    assert [(args, round(countdown)) for _, args, countdown in resent] == [((task.pk, deadline), 10)]
