"""Dispatch benchmark: choosing a task's first wave among 100,000 volunteers in a city, and
1,000 tasks created at once until every first wave is offered.

Part 1 — choose the first wave. For --queries random task points (URGENT, 5 places, so 10
offers wanted, 1 km first radius), time volunteers.dispatch.waves.find_candidates: the
eligible pool (approved, available now, under their limit, reachable, not yet asked) read
only in the H3 cells and bounding box of the disk, ranked (distance bands, reliability,
load) with exact geodesics only where they matter, widening the radius while too few. Also
time the whole first wave (offer_next_wave: choosing plus writing the offers, their timeline,
push notifications and SMS outbox rows) in a rolled-back transaction. Baseline in the same
run, on the first --brute-queries points: brute force — the same eligibility query without
the spatial step (every eligible volunteer of the city), a geodesic for each, sorted by the
same ranking, widened the same way. Both must choose the same people.

Part 2 — --burst tasks created in one transaction (as a plan or a mass import would): the
commit enqueues one run_dispatch each; a real Celery worker (in-process, --workers threads,
in-memory broker) sends the waves; the clock runs until every task has its first wave
offered. Baseline in the same run: the same number of waves run directly in one thread, no
broker (after the timed part, on fresh tasks).

    .venv/bin/python bench/dispatch.py                       # 100,000 volunteers, 200 queries, 1,000 tasks
    .venv/bin/python bench/dispatch.py --volunteers 10000 --queries 50 --brute-queries 3 --burst 200

SQLite (a throw-away file) by default; set DATABASE_URL for PostgreSQL (use a scratch
database: the benchmark deletes what it wrote afterwards).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CENTER = (30.2741, 120.1551)  # Hangzhou, WGS-84
PREFIX = "bench-dispatch-"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--span-km", type=float, default=30.0, help="side of the square the city covers")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--brute-queries", type=int, default=5, help="how many of the queries also run brute force")
    parser.add_argument("--headcount", type=int, default=5)
    parser.add_argument("--burst", type=int, default=1000, help="tasks created at once (part 2; 0 to skip)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker threads for part 2")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LINLI_EMBEDDED_WORKER", "0")
    os.environ.setdefault("SMS_BACKEND", "notifications.transports.locmem.LocmemTransport")
    os.environ.setdefault("SMS_MAX_DRAINERS", "0")  # outbox rows are written; sending is another benchmark
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def random_point(rng: random.Random, span_km: float, margin_km: float = 0.0) -> tuple[float, float]:
    half = span_km / 2 - margin_km
    half_lat = half / 111.0
    half_lng = half / (111.0 * math.cos(math.radians(CENTER[0])))
    return CENTER[0] + rng.uniform(-half_lat, half_lat), CENTER[1] + rng.uniform(-half_lng, half_lng)


# --- the city -----------------------------------------------------------------------------
def build_city(args, rng: random.Random):
    """A grid and N volunteers: 95% approved (the rest pending or suspended), 35% on duty,
    25% more inside a weekly window now, 15% with a first-aid certificate, channels mixed."""
    import datetime as dt

    from django.utils import timezone

    from community.models import Area, AreaKind, User
    from volunteers.models import (
        AvailabilityWindow,
        ContactChannel,
        Skill,
        Volunteer,
        VolunteerSkill,
    )
    from volunteers.models.time import local

    grid = Area.objects.add_root(create_kwargs=dict(
        name="bench grid", code=f"{PREFIX}{rng.randrange(10**9)}", kind=AreaKind.GRID,
        center_lat=CENTER[0], center_lng=CENTER[1],
    ))
    first_aid = Skill.objects.get(code="first_aid")
    now = timezone.now()
    weekday = local(now).weekday()
    started = time.perf_counter()
    for start in range(0, args.volunteers, 5000):
        ids = range(start, min(args.volunteers, start + 5000))
        users = User.objects.bulk_create([
            User(username=f"{PREFIX}{i}", password="!", phone=f"+86136{i:08d}", display_name=f"志愿者{i}") for i in ids
        ])
        if users[0].pk is None:
            users = list(User.objects.filter(username__in=[f"{PREFIX}{i}" for i in ids]).order_by("pk"))
        volunteers = []
        for user in users:
            roll = rng.random()
            status = "APPROVED" if roll < 0.95 else ("PENDING" if roll < 0.98 else "SUSPENDED")
            v = Volunteer(user=user, area=grid, status=status,
                          contact_channel=rng.choice([ContactChannel.APP, ContactChannel.BOTH, ContactChannel.SMS]),
                          on_duty_until=now + dt.timedelta(hours=8) if rng.random() < 0.35 else None,
                          max_concurrent_tasks=rng.choice([1, 1, 1, 2]),
                          completed_count=rng.randint(0, 10), expired_count=rng.randint(0, 3))
            v.set_location(*random_point(rng, args.span_km))
            volunteers.append(v)
        volunteers = Volunteer.objects.bulk_create(volunteers)
        if volunteers[0].pk is None:
            volunteers = list(Volunteer.objects.filter(user__in=users).order_by("user_id"))
        AvailabilityWindow.objects.bulk_create([
            AvailabilityWindow(volunteer=v, weekday=weekday, start=dt.time(0, 0), end=dt.time(23, 59, 59))
            for v in volunteers if v.on_duty_until is None and rng.random() < 0.25 / 0.65
        ])
        VolunteerSkill.objects.bulk_create([
            VolunteerSkill(volunteer=v, skill=first_aid, certificate_ref=f"C{v.pk}") for v in volunteers if rng.random() < 0.15
        ])
    return grid, time.perf_counter() - started


def new_task(grid, point, title: str, *, dispatch: bool = False, headcount: int = 5):
    from volunteers.services import TaskSpec, create_task

    return create_task(TaskSpec(title=title, location=point, headcount=headcount, priority="URGENT"), area=grid, dispatch=dispatch)


# --- part 1 -------------------------------------------------------------------------------
def choose_indexed(task, now):
    from django.db import transaction

    from volunteers.dispatch.parameters import dispatch_parameters
    from volunteers.dispatch.waves import find_candidates

    params = dispatch_parameters(task)
    with transaction.atomic():  # find_candidates notes widenings on the timeline: roll them back
        chosen = find_candidates(task, params, params.wave_size(task.places_left), now)
        transaction.set_rollback(True)
    return [c.user_id for c in chosen]


def choose_brute(task, now):
    """Every eligible volunteer of the city, a geodesic each, the same ranking and widening."""
    from volunteers.dispatch import pool
    from volunteers.dispatch.parameters import dispatch_parameters
    from volunteers.dispatch.ranking import Candidate, rank_key
    from volunteers.models import OfferPool

    params = dispatch_parameters(task)
    wanted = params.wave_size(task.places_left)
    rows = pool.eligible_volunteers(task, [], now).values_list(
        "pk", "user_id", "lat", "lng", "temp_lat", "temp_lng", "temp_location_until", "reliability_value",
        "active_tasks", "pending_offers", "contact_channel",
    )
    from community.geo import distance_m

    everyone = []
    for pk, user_id, lat, lng, tlat, tlng, until, reliability, active, pending, channel in rows.iterator(chunk_size=5000):
        point = (tlat, tlng) if until is not None and until > now and tlat is not None else (lat, lng)
        c = Candidate(user_id, pk, OfferPool.VOLUNTEER, point[0], point[1], float(reliability), active + pending, channel)
        c.distance_m = distance_m(task.point, point)
        everyone.append(c)
    radius = params.radius_start_m
    while True:
        within = sorted((c for c in everyone if c.distance_m <= radius), key=rank_key(params.ranking_band_m))[:wanted]
        wider = params.next_radius(radius)
        if len(within) >= wanted or wider is None:
            return [c.user_id for c in within]
        radius = wider


def first_wave(task, now):
    from django.db import transaction

    from volunteers.dispatch.waves import offer_next_wave
    from volunteers.models import Task

    Task.objects.filter(pk=task.pk).update(auto_dispatch=True)
    with transaction.atomic():  # offers, events, notifications, outbox rows: written, then rolled back
        result = offer_next_wave(task.pk, now)
        transaction.set_rollback(True)
    Task.objects.filter(pk=task.pk).update(auto_dispatch=False)
    return result.offered


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, (time.perf_counter() - started) * 1000


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(0.99 * len(ordered)) - 1))]


def part_one(args, grid, rng):
    from django.utils import timezone

    points = [random_point(rng, args.span_km, margin_km=1.0) for _ in range(args.queries)]
    tasks = [new_task(grid, p, f"选人{i}", headcount=args.headcount) for i, p in enumerate(points)]
    now = timezone.now()
    choose_indexed(tasks[0], now)  # warm caches (H3 geometry, content types)
    indexed, waves, chosen = [], [], []
    for task in tasks:
        ids, ms = timed(choose_indexed, task, now)
        indexed.append(ms)
        chosen.append(ids)
        offered, ms = timed(first_wave, task, now)
        waves.append(ms)
    brute, equal = [], 0
    for task, ids in zip(tasks[: args.brute_queries], chosen, strict=False):
        brute_ids, ms = timed(choose_brute, task, now)
        brute.append(ms)
        equal += brute_ids == ids
    return {"indexed": indexed, "waves": waves, "brute": brute, "equal": equal,
            "offers": statistics.mean(len(c) for c in chosen)}


# --- part 2 -------------------------------------------------------------------------------
def part_two(args, grid, rng):
    from django.db import transaction

    from backend.celery import app
    from backend.embedded import start_embedded_worker
    from volunteers.dispatch.waves import offer_next_wave
    from volunteers.models import Task

    # The in-memory broker polls its queue once a second when idle; poll often, as Redis
    # (BRPOP) effectively does, so the figure is the engine's and not the poll interval's.
    app.conf.broker_transport_options = {**(app.conf.broker_transport_options or {}), "polling_interval": 0.01}
    start_embedded_worker(concurrency=args.workers, beat=False)
    time.sleep(1.0)  # let the worker connect to the broker
    points = [random_point(rng, args.span_km, margin_km=1.0) for _ in range(args.burst)]
    started = time.perf_counter()
    with transaction.atomic():
        ids = [new_task(grid, p, f"批量{i}", dispatch=True, headcount=2).pk for i, p in enumerate(points)]
    committed = time.perf_counter()
    while Task.objects.filter(pk__in=ids, wave_count=0, status__in=["OPEN", "DISPATCHING"]).exists():
        time.sleep(0.05)
    done = time.perf_counter()
    offered = Task.objects.filter(pk__in=ids, wave_count__gte=1).count()
    unstaffed = Task.objects.filter(pk__in=ids, status="UNSTAFFED").count()
    # Baseline: the same number of first waves, run directly in this thread (no broker).
    fresh = [new_task(grid, p, f"直接{i}", headcount=2).pk for i, p in enumerate(points)]
    Task.objects.filter(pk__in=fresh).update(auto_dispatch=True)
    base_started = time.perf_counter()
    for pk in fresh:
        offer_next_wave(pk)
    direct = time.perf_counter() - base_started
    return {"create": committed - started, "until_offered": done - committed, "total": done - started,
            "offered": offered, "unstaffed": unstaffed, "direct": direct}


def cleanup() -> None:
    from community.models import Area, User
    from notifications.models import Notification, SmsMessage
    from volunteers.models import Task, Volunteer

    tasks = Task.objects.filter(area__code__startswith=PREFIX)
    SmsMessage.objects.filter(purpose__startswith="task_", user__username__startswith=PREFIX).delete()
    Notification.objects.filter(user__username__startswith=PREFIX).delete()
    tasks.delete()
    Volunteer.objects.filter(user__username__startswith=PREFIX).delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    Area.objects.filter(code__startswith=PREFIX).delete()


def main() -> None:
    args = parse_args()
    vendor = setup_django()
    rng = random.Random(args.seed)
    grid, load_s = build_city(args, rng)
    print(f"footing                {vendor}; {args.volunteers:,} volunteers over {args.span_km:g} km x {args.span_km:g} km "
          f"(loaded in {load_s:.1f} s)")
    try:
        one = part_one(args, grid, rng)
        med, brute_med = statistics.median(one["indexed"]), statistics.median(one["brute"]) if one["brute"] else float("nan")
        print(f"choose first wave      median {med:.1f} ms, p99 {p99(one['indexed']):.1f} ms over {args.queries} tasks "
              f"(URGENT, {args.headcount} places, {one['offers']:.1f} chosen on average)")
        print(f"whole first wave       median {statistics.median(one['waves']):.1f} ms, p99 {p99(one['waves']):.1f} ms "
              f"(choose + write offers, timeline, pushes, SMS outbox rows)")
        if one["brute"]:
            print(f"brute force            median {brute_med:.0f} ms, p99 {p99(one['brute']):.0f} ms over {len(one['brute'])} tasks")
            print(f"ratio                  {brute_med / med:.0f}x (median), {p99(one['brute']) / p99(one['indexed']):.0f}x (p99); "
                  f"same people chosen: {one['equal']} of {len(one['brute'])}")
        if args.burst:
            two = part_two(args, grid, rng)
            print(f"{args.burst} tasks at once   created and committed in {two['create']:.1f} s; every first wave offered "
                  f"{two['until_offered']:.1f} s later ({two['offered']} with offers, {two['unstaffed']} unstaffed; "
                  f"{args.burst / two['until_offered']:.0f} waves/s with {args.workers} worker threads)")
            print(f"baseline               the same {args.burst} waves run directly in one thread: {two['direct']:.1f} s "
                  f"({args.burst / two['direct']:.0f} waves/s); through Celery / direct = {two['until_offered'] / two['direct']:.2f}")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
