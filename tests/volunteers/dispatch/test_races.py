"""Concurrency decided in PostgreSQL, with real concurrent transactions (threads, each with
its own connection): fifty people accepting three places at once, an answer racing the
expiry sweep, duplicate waves and sweeps, and a worker process killed mid-wave."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from core.errors import ValidationError
from volunteers.dispatch import offer_next_wave
from volunteers.dispatch.sweep import sweep_dispatch
from volunteers.models import Offer, OfferStatus, Task, TaskAssignment, TaskEvent, Volunteer
from volunteers.services import TaskSpec, create_task, offer_task_to, respond_to_offer

from .conftest import helper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]


def at_once(calls, timeout: float = 60) -> list:
    """Run the calls in threads released together; each its own DB connection. Returns each
    call's result or the code of the ValidationError it raised (in call order)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except ValidationError as exc:
            results[i] = str(getattr(exc, "code", exc))
        except Exception as exc:
            results[i] = f"crash: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a transaction never finished"
    return results


def test_fifty_people_accepting_three_places_at_the_same_instant(world):
    people = [helper(world.grid_a1, 20 * i + 10, i * 7) for i in range(50)]
    task = create_task(TaskSpec(title="抢险", headcount=3, priority="URGENT"), area=world.grid_a1, dispatch=False)
    for v in people:
        offer_task_to(task, v, by=world.worker_a1)
    offers = list(Offer.objects.filter(task=task))
    assert len(offers) == 50

    results = at_once([lambda o=o: respond_to_offer(o, accept=True).outcome.value for o in offers])

    assert sorted(results) == ["ACCEPTED"] * 3 + ["LATE"] * 47, results
    task.refresh_from_db()
    assert (task.status, task.filled_count) == ("STAFFED", 3)
    assert TaskAssignment.objects.filter(task=task).count() == 3
    statuses = list(Offer.objects.filter(task=task).values_list("status", flat=True))
    assert statuses.count("ACCEPTED") == 3 and statuses.count("LATE") == 47
    assert TaskEvent.objects.filter(task=task, kind="STAFFED").count() == 1
    assert TaskEvent.objects.filter(task=task, kind="LATE").count() == 47
    # Every yes counted once on its person's record.
    assert sorted(Volunteer.objects.filter(pk__in=[v.pk for v in people]).values_list("accepted_count", flat=True)) == [1] * 50


def test_an_answer_and_the_expiry_sweep_at_the_same_instant_have_one_outcome(world):
    v = helper(world.grid_a1, 100, max_concurrent_tasks=20)
    outcomes = []
    for round_ in range(12):
        task = create_task(TaskSpec(title=f"第{round_}轮"), area=world.grid_a1, dispatch=False)
        offer = offer_task_to(task, v, by=world.worker_a1)
        expiry = offer.expires_at
        # Both conditions hold at once: the answer is before the deadline, the sweep at it.
        def answer(o=offer, t=expiry):
            return respond_to_offer(o, accept=True, now=t - dt.timedelta(microseconds=1)).outcome.value

        def sweep(t=expiry):
            return sweep_dispatch(now=t).expired

        calls = [answer, sweep] if round_ % 2 else [sweep, answer]
        results = at_once(calls)
        offer.refresh_from_db()
        assigned = TaskAssignment.objects.filter(task=task).count()
        assert (offer.status, assigned) in {("ACCEPTED", 1), ("EXPIRED", 0)}, (offer.status, assigned, results)
        outcomes.append(offer.status)
    v.refresh_from_db()
    assert v.accepted_count + v.expired_count == 12 == v.offered_count
    assert v.accepted_count == outcomes.count("ACCEPTED")


def test_duplicate_waves_and_sweeps_at_once_offer_nobody_twice(world, clock):
    [helper(world.grid_a1, 100 * i) for i in range(1, 30)]
    task = create_task(TaskSpec(title="重复投递", headcount=3, priority="URGENT"), area=world.grid_a1, dispatch=False)
    Task.objects.filter(pk=task.pk).update(auto_dispatch=True)
    results = at_once([lambda: offer_next_wave(task.pk).outcome for _ in range(6)])
    assert sorted(results) == ["offered"] + ["waiting"] * 5
    assert Offer.objects.filter(task=task).count() == 6
    clock.advance(601)
    reports = at_once([lambda: sweep_dispatch().expired for _ in range(3)])
    assert sum(reports) == 6 and Offer.objects.filter(task=task, status=OfferStatus.EXPIRED).count() == 6
    assert Offer.objects.filter(task=task).values("user_id").distinct().count() == Offer.objects.filter(task=task).count() == 12


WORKER = """
import os, sys, time
import django
django.setup()
from volunteers.dispatch import waves
def stall(*args, **kwargs):
    print("offers written, not committed", flush=True)
    time.sleep(120)
waves.deliver_offers = stall
waves.offer_next_wave(int(sys.argv[1]))
"""


def test_a_worker_process_killed_mid_wave_then_the_sweep_staffs_the_task(world, clock):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 9)]
    task = create_task(TaskSpec(title="断电后恢复", headcount=2, priority="URGENT"), area=world.grid_a1, dispatch=False)
    Task.objects.filter(pk=task.pk).update(auto_dispatch=True)
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings",
           "DATABASE_URL": f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(task.pk)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = worker.stdout.readline()
        assert "offers written" in line, worker.stderr.read()
        os.kill(worker.pid, signal.SIGKILL)  # mid-wave: offers inserted, nothing committed
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    _wait_for_lock_release(task, time.monotonic() + 10)
    assert not Offer.objects.filter(task=task).exists()  # the dead worker's wave left nothing
    Task.objects.filter(pk=task.pk).update(dispatch_due_at=clock.now)  # its lease has run out
    sweep_dispatch()
    first = list(Offer.objects.filter(task=task).order_by("rank"))
    assert [o.user_id for o in first] == [p.user_id for p in people[:4]]
    for o in first[:2]:
        respond_to_offer(o, accept=True)
    task.refresh_from_db()
    assert task.status == "STAFFED"
    assert Offer.objects.values("user_id").distinct().count() == Offer.objects.count()


def _wait_for_lock_release(task, deadline: float) -> None:
    """PostgreSQL rolls the dead worker's transaction back once it notices the socket closed."""
    from django.db import transaction

    while time.monotonic() < deadline:
        with transaction.atomic():
            if Task.objects.select_for_update(skip_locked=True, no_key=True).filter(pk=task.pk).exists():
                return
        time.sleep(0.05)
    raise AssertionError("the killed worker's lock was never released")
