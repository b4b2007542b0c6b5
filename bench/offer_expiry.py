"""Offer-expiry timing: how late unanswered offers expire, whether any is counted twice, and
whether a killed worker stalls them — the scheduled expiry against a naive countdown, in one run.

Each phase writes --tasks tasks with --per-task pending offers each (one deadline per task,
as a wave has), deadlines spread uniformly over --spread seconds from --lead seconds on, and
starts two real Celery worker processes (threads pool) on Redis; the bench sends the dispatch
sweep every 15 s as beat would. At --kill-at of the spread, worker 1 is killed (SIGKILL,
with its whole process group) and restarted a second later, as a supervisor would.

- naive:     one countdown message per offer; it expires the offer without looking at its
             status (no conditional UPDATE) and records the outcome; the sweep expires what
             the messages missed (without re-sending countdown messages).
- scheduled: the code's path — volunteers.dispatch.sweep.schedule_expiry: one message per
             (task, deadline), idempotent (conditional UPDATE, only PENDING past the
             deadline); the sweep re-sends deadlines due before the next sweep; a started
             worker asks for a sweep.

Lateness = closed_at - expires_at of each expired offer. Duplicates = offers with more than
one EXPIRED timeline event, and the volunteers' expired_count moved more than once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli_x REDIS_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/offer_expiry.py [--tasks 150 --per-task 3 --spread 45]

PostgreSQL and Redis are required (scratch database and Redis db: the bench flushes the
broker's queue and deletes what it wrote afterwards).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFIX = "bench-expiry-"
CENTER = (30.2741, 120.1551)
NAIVE_TASK = "bench.offer_expiry.naive_expire_offer"
SWEEP_EVERY = 15.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=150)
    parser.add_argument("--per-task", type=int, default=3)
    parser.add_argument("--lead", type=float, default=10.0, help="seconds before the first deadline")
    parser.add_argument("--spread", type=float, default=45.0, help="deadlines spread over this many seconds")
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction of the spread when worker 1 is killed")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--phases", default="naive,scheduled")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args()


def setup_django(migrate: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LINLI_EMBEDDED_WORKER", "0")
    os.environ.setdefault("SMS_BACKEND", "notifications.transports.locmem.LocmemTransport")
    os.environ.setdefault("SMS_MAX_DRAINERS", "0")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def register_naive_task():
    """The baseline: one countdown per offer, no status check, no idempotency."""
    from celery import shared_task
    from django.utils import timezone

    from volunteers.dispatch import timeline
    from volunteers.dispatch.record import record_answers
    from volunteers.models import Offer, OfferOutcome, OfferStatus, TaskEventKind

    @shared_task(name=NAIVE_TASK, ignore_result=True)
    def naive_expire_offer(offer_id: int) -> None:
        now = timezone.now()
        offer = Offer.objects.get(pk=offer_id)
        Offer.objects.filter(pk=offer_id).update(status=OfferStatus.EXPIRED, closed_at=now)
        offer.status, offer.closed_at = OfferStatus.EXPIRED, now
        timeline.record_offers(TaskEventKind.EXPIRED, [offer], at=now)
        record_answers([offer.volunteer_id], OfferOutcome.EXPIRED)

    return naive_expire_offer


def run_worker(name: str) -> None:
    setup_django(migrate=False)
    register_naive_task()
    from backend.celery import app

    app.worker_main(["worker", "-P", "threads", "-c", os.environ.get("BENCH_THREADS", "4"), "-n", f"{name}@%h",
                     "-Q", "celery", "--without-gossip", "--without-mingle", "-l", "WARNING"])


def start_worker(name: str, phase: str, threads: int) -> subprocess.Popen:
    env = {**os.environ, "BENCH_THREADS": str(threads)}
    if phase == "naive":
        env["DISPATCH_EXPIRY_RESEND_SECONDS"] = "0"  # the sweep as it was: expire only
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", name], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait()


def stop(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        kill(worker)


def build_people(per_task: int):
    from community.models import Area, AreaKind, User
    from volunteers.models import Volunteer

    grid = Area.objects.add_root(create_kwargs=dict(
        name="bench expiry grid", code=f"{PREFIX}{random.randrange(10**9)}", kind=AreaKind.GRID,
        center_lat=CENTER[0], center_lng=CENTER[1]))
    people = []
    for i in range(per_task):
        user = User.objects.create(username=f"{PREFIX}{grid.pk}-{i}", password="!", phone=f"+86137{grid.pk % 10**4:04d}{i:04d}")
        v = Volunteer(user=user, area=grid, status="APPROVED")
        v.set_location(*CENTER)
        v.save()
        people.append(v)
    return grid, people


def write_offers(args, grid, people, rng: random.Random, start: dt.datetime):
    """Tasks (no automatic dispatch: only expiry is timed) and their pending offers."""
    from django.db import transaction

    from volunteers.models import Offer, Task
    from volunteers.services import TaskSpec, create_task

    offers = []
    with transaction.atomic():
        for n in range(args.tasks):
            task = create_task(TaskSpec(title=f"expiry {n}", location=CENTER, headcount=args.per_task, priority="URGENT"),
                               area=grid, dispatch=False)
            Task.objects.filter(pk=task.pk).update(auto_dispatch=False)
            deadline = start + dt.timedelta(seconds=args.lead + rng.uniform(0, args.spread))
            offers += [Offer(task=task, user_id=v.user_id, volunteer_id=v.pk, wave=1, rank=i, offered_at=start,
                             expires_at=deadline) for i, v in enumerate(people, start=1)]
        offers = Offer.objects.bulk_create(offers)
    return offers


def send_expiries(phase: str, offers) -> None:
    from django.utils import timezone

    from core.enqueue import enqueue_later
    from volunteers.dispatch.sweep import schedule_expiry

    if phase == "naive":
        for offer in offers:
            enqueue_later(NAIVE_TASK, offer.pk, countdown=max(0.0, (offer.expires_at - timezone.now()).total_seconds()))
    else:
        for task_id, deadline in sorted({(o.task_id, o.expires_at) for o in offers}):
            schedule_expiry(task_id, deadline)  # outside a transaction: sent at once


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_phase(args, phase: str, grid, people, rng: random.Random) -> dict:
    from django.db.models import Sum
    from django.utils import timezone

    from core.enqueue import enqueue_now
    from volunteers.models import Offer, OfferStatus, TaskEvent, Volunteer

    expired_before = Volunteer.objects.filter(pk__in=[v.pk for v in people]).aggregate(n=Sum("expired_count"))["n"] or 0
    workers = [start_worker(f"{phase}-w0", phase, args.threads), start_worker(f"{phase}-w1", phase, args.threads)]
    time.sleep(6)  # the workers start (their own startup sweep has nothing to do yet)
    start = timezone.now()
    offers = write_offers(args, grid, people, rng, start)
    send_expiries(phase, offers)
    t0 = time.monotonic()
    kill_at = args.lead + args.kill_at * args.spread
    killed_at_wall = None
    next_sweep = SWEEP_EVERY
    end = args.lead + args.spread + 2 * SWEEP_EVERY + 5
    ids = [o.pk for o in offers]
    while True:
        elapsed = time.monotonic() - t0
        if killed_at_wall is None and elapsed >= kill_at:
            kill(workers[1])
            killed_at_wall = timezone.now()
            time.sleep(1.0)
            workers[1] = start_worker(f"{phase}-w1b", phase, args.threads)
        if elapsed >= next_sweep:
            enqueue_now("volunteers.tasks.sweep_dispatch")
            next_sweep += SWEEP_EVERY
        if elapsed > args.lead + args.spread and not Offer.objects.filter(pk__in=ids, status=OfferStatus.PENDING).exists():
            break
        if elapsed > end:
            break
        time.sleep(0.2)
    time.sleep(2)  # late duplicates, if any, land
    rows = list(Offer.objects.filter(pk__in=ids).values_list("pk", "status", "expires_at", "closed_at"))
    lateness = [(closed - expires).total_seconds() for _, status, expires, closed in rows if status == OfferStatus.EXPIRED]
    after_kill = [(closed - expires).total_seconds() for _, status, expires, closed in rows
                  if status == OfferStatus.EXPIRED and expires >= killed_at_wall]
    expired_after = Volunteer.objects.filter(pk__in=[v.pk for v in people]).aggregate(n=Sum("expired_count"))["n"] or 0
    for w in workers:
        stop(w)
    expired = len(lateness)
    # Each task's offers share its events; an EXPIRED event per offer is expected.
    events_per_offer = TaskEvent.objects.filter(task_id__in={o.task_id for o in offers}, kind="EXPIRED").count()
    return {
        "phase": phase, "offers": len(rows), "expired": expired,
        "pending_left": sum(1 for r in rows if r[1] == OfferStatus.PENDING),
        "p50": statistics.median(lateness) if lateness else float("nan"),
        "p95": percentile(lateness, 0.95), "p99": percentile(lateness, 0.99), "max": max(lateness, default=float("nan")),
        "late_over_1s": sum(1 for x in lateness if x > 1.0),
        "p95_after_kill": percentile(after_kill, 0.95),
        "duplicate_events": events_per_offer - expired,
        "duplicate_counts": (expired_after - expired_before) - expired,
    }


def cleanup() -> None:
    from community.models import Area, User
    from notifications.models import Notification
    from volunteers.models import Task, Volunteer

    Task.objects.filter(area__code__startswith=PREFIX).delete()
    Notification.objects.filter(user__username__startswith=PREFIX).delete()
    Volunteer.objects.filter(user__username__startswith=PREFIX).delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    Area.objects.filter(code__startswith=PREFIX).delete()


def main() -> None:
    args = parse_args()
    if args.worker:
        run_worker(args.worker)
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("set DATABASE_URL (PostgreSQL, a scratch database) and REDIS_URL (a scratch Redis db)")
    setup_django(migrate=True)
    register_naive_task()
    import redis

    from backend.celery import app

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # the scratch broker: no message of an earlier run
    cleanup()
    rng = random.Random(args.seed)
    load = os.getloadavg()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"{args.tasks} tasks x {args.per_task} offers, deadlines over {args.spread:.0f} s, "
          f"worker 1 of 2 killed at {args.kill_at:.0%} of the spread and restarted 1 s later")
    results = []
    try:
        grid, people = build_people(args.per_task)
        for phase in args.phases.split(","):
            results.append(run_phase(args, phase, grid, people, rng))
            app.control.purge()  # the killed worker's held messages stay unacknowledged (visibility timeout)
    finally:
        cleanup()
    print(f"{'phase':<10} {'offers':>6} {'expired':>7} {'pending':>7} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7} {'max s':>7} "
          f"{'>1 s':>5} {'p95 after kill':>14} {'dup events':>10} {'dup counts':>10}")
    for r in results:
        print(f"{r['phase']:<10} {r['offers']:>6} {r['expired']:>7} {r['pending_left']:>7} {r['p50']:>7.2f} {r['p95']:>7.2f} "
              f"{r['p99']:>7.2f} {r['max']:>7.2f} {r['late_over_1s']:>5} {r['p95_after_kill']:>14.2f} "
              f"{r['duplicate_events']:>10} {r['duplicate_counts']:>10}")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
