"""Emergency benchmark: declare an emergency over N residents and M volunteers.

Measures, in one run on the same data:
1. the switch: time for switch_mode() to return (it writes the ModeSwitch and the PlanRun;
   the fan-out is background work) vs a bare switch (lock, insert, update: no plan run);
2. the fan-out: time until every push is published and every outbox row written (plan run:
   alert to every resident, safety check with one row per resident and its question, call-in
   of every volunteer), run by the same code the Celery workers run, vs a naive per-resident
   loop (notify() + queue_sms() one by one) measured on a sample and scaled per resident;
3. the answers: every resident answers (SAFE / NEED_HELP, by app or SMS channel, 5% of them
   sent twice with the same client key) as fast as the service takes them — the share
   recorded must be 100% with nothing counted twice — vs a bare single-row UPDATE per answer.

    .venv/bin/python bench/emergency.py                 # 10,000 residents, 1,000 volunteers
    .venv/bin/python bench/emergency.py --full          # 50,000 residents, 5,000 volunteers
    DATABASE_URL=postgres://... .venv/bin/python bench/emergency.py --full --threads 4

A throw-away SQLite file unless DATABASE_URL is set (then a scratch database it migrates).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CENTER = (30.2741, 120.1551)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--volunteers", type=int, default=1_000)
    parser.add_argument("--full", action="store_true", help="50,000 residents and 5,000 volunteers")
    parser.add_argument("--threads", type=int, default=1, help="answering threads (PostgreSQL: try 4)")
    parser.add_argument("--naive-sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--processes", type=int, default=0,
                        help="run each fan-out job (plan run with its call-in, alert, safety check) in its own worker "
                             "process, as the Procfile's prefork workers do (0: one after another in this process)")
    parser.add_argument("--no-answers", action="store_true", help="stop after the fan-out")
    args = parser.parse_args()
    if args.full:
        args.residents, args.volunteers = 50_000, 5_000
    return args


def setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LINLI_EMBEDDED_WORKER", "0")
    os.environ.setdefault("SMS_BACKEND", "notifications.transports.locmem.LocmemTransport")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def build(args, rng):
    from community.models import Area, AreaKind, Resident, User
    from volunteers.models import Volunteer, VolunteerStatus

    tag = f"b{int(time.time())}"
    city = Area.objects.add_root(create_kwargs=dict(name="基准市", code=tag, kind=AreaKind.CITY, center_lat=CENTER[0], center_lng=CENTER[1]))
    sub = Area.objects.add_child(Area.objects.get(pk=city.pk), create_kwargs=dict(name="基准街道", code=f"{tag}-s", kind=AreaKind.SUBDISTRICT, center_lat=CENTER[0], center_lng=CENTER[1]))
    grids = []
    for c in range(4):
        com = Area.objects.add_child(Area.objects.get(pk=sub.pk), create_kwargs=dict(name=f"社区{c}", code=f"{tag}-c{c}", kind=AreaKind.COMMUNITY,
                                                    center_lat=CENTER[0] + 0.01 * c, center_lng=CENTER[1]))
        for g in range(4):
            grids.append(Area.objects.add_child(Area.objects.get(pk=com.pk), create_kwargs=dict(name=f"网格{c}-{g}", code=f"{tag}-c{c}-{g}", kind=AreaKind.GRID,
                                                               center_lat=CENTER[0] + 0.01 * c + 0.002 * g, center_lng=CENTER[1] + 0.002 * g)))
    commander = User.objects.create_user(username=f"{tag}-cmd", password=None)
    users = User.objects.bulk_create([User(username=f"{tag}-u{i}", phone=f"+86135{i:08d}") for i in range(int(args.residents * 0.6))],
                                     batch_size=2000)
    users = list(User.objects.filter(username__startswith=f"{tag}-u").order_by("id"))
    rows = []
    for i in range(args.residents):
        grid = grids[i % len(grids)]
        r = Resident(display_name=f"居民{i}", grid=grid, user=users[i] if i < len(users) else None,
                     phone=f"+86135{i:08d}" if rng.random() < 0.85 or i < len(users) else None,
                     elderly_living_alone=rng.random() < 0.1)
        r.set_location(grid.center_lat + rng.uniform(-0.002, 0.002), grid.center_lng + rng.uniform(-0.002, 0.002))
        r.refresh_vulnerability()
        rows.append(r)
    Resident.objects.bulk_create(rows, batch_size=2000)
    vusers = User.objects.bulk_create([User(username=f"{tag}-v{i}", phone=f"+86137{i:08d}") for i in range(args.volunteers)], batch_size=2000)
    vusers = list(User.objects.filter(username__startswith=f"{tag}-v").order_by("id"))
    vols = []
    for i, user in enumerate(vusers):
        v = Volunteer(user=user, area=grids[i % len(grids)], status=VolunteerStatus.APPROVED)
        v.set_location(CENTER[0] + rng.uniform(-0.02, 0.02), CENTER[1] + rng.uniform(-0.02, 0.02))
        vols.append(v)
    Volunteer.objects.bulk_create(vols, batch_size=2000)
    return sub, grids, commander


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    args = parse_args()
    vendor = setup_django()
    from django.db import transaction

    from community.models import Area, Mode, ModeSwitch
    from emergency.models import SafetyCheck
    from emergency.plans import save_plan_version
    from emergency.switching import switch_mode
    from emergency.tasks import run_pending_emergency_jobs
    from notifications import services
    from notifications.models import Notification, SmsMessage

    published = {"n": 0, "calls": 0}
    original, original_many = services.publish, services.publish_many

    def counting_publish(group, event):
        published["n"] += 1
        published["calls"] += 1
        return original(group, event)

    def counting_publish_many(pairs):
        published["n"] += len(pairs)
        published["calls"] += 1
        return original_many(pairs)

    services.publish, services.publish_many = counting_publish, counting_publish_many
    rng = random.Random(args.seed)
    print(f"emergency benchmark on {vendor}: {args.residents:,} residents, {args.volunteers:,} volunteers")
    t_build, (sub, grids, commander) = timed(lambda: build(args, rng))
    print(f"  data built in {t_build:.1f} s")
    plan = [
        {"type": "ALERT", "params": {"categories": ["Met"], "event": "台风", "urgency": "Immediate", "severity": "Severe",
                                     "certainty": "Likely", "headline": "台风即将登陆", "instruction": "请留在室内"}},
        {"type": "SAFETY_CHECK", "params": {"title": "台风报平安"}},
        {"type": "MOBILISE", "params": {"level": "CALL_IN"}},
    ]
    save_plan_version(sub, Mode.EMERGENCY, name="防台风预案", actions=plan, by=commander)

    # 1. the switch, and a bare switch as the baseline (on a grid, with no plan)
    t_switch, switch = timed(lambda: switch_mode(Area.objects.get(pk=sub.pk), Mode.EMERGENCY, by=commander, reason="台风"))
    grid = grids[0]

    def bare_switch():
        with transaction.atomic():
            locked = Area.objects.select_for_update().get(pk=grid.pk)
            ModeSwitch.objects.create(area=locked, from_mode=locked.mode, to_mode=Mode.STANDBY, switched_by=commander)
            Area.objects.filter(pk=locked.pk).update(mode=Mode.STANDBY)

    t_bare, _ = timed(bare_switch)
    print(f"1. switch returned in {t_switch * 1000:.1f} ms (bare switch without plan run {t_bare * 1000:.1f} ms, "
          f"ratio {t_switch / t_bare:.1f}x)")

    # 2. the fan-out
    t_fan = time_fan_out(args, run_pending_emergency_jobs)
    pushes = Notification.objects.filter(kind__in=["alert", "safety_check", "mobilisation"]).count()
    sms = SmsMessage.objects.filter(purpose__in=["alert", "safety_check", "mobilisation"]).count()
    check = SafetyCheck.objects.get(plan_step__run=switch.plan_run)
    rows = check.statuses.count()
    assert args.processes or published["n"] == pushes, (published, pushes)
    naive_per = naive_rate(args, sub, commander)
    work_units = args.residents * 2 + args.volunteers
    calls = f"in {published['calls']:,} publish calls" if not args.processes else f"{args.processes} worker processes"
    print(f"2. fan-out done in {t_fan:.1f} s: {pushes:,} pushes published ({calls}), "
          f"{sms:,} SMS written, {rows:,} safety rows "
          f"({work_units / t_fan:,.0f} recipients/s); naive per-recipient loop {naive_per:,.0f} recipients/s "
          f"-> ratio {work_units / t_fan / naive_per:.1f}x")

    if not args.no_answers:
        answer_phase(args, rng, vendor, check)


def answer_phase(args, rng, vendor, check) -> None:
    from django.db import connection

    from emergency.models import SafetyAnswer, SafetyCheck, SafetyStatus
    from emergency.safety import safety_counts
    from emergency.safety_answers import answer_safety_check

    # 3. answers: baseline bare UPDATEs, reset, then the real service with replays
    ids = list(check.statuses.order_by("pk").values_list("pk", flat=True))
    t_base, _ = timed(lambda: [SafetyStatus.objects.filter(pk=pk).update(status="SAFE") for pk in ids])
    SafetyStatus.objects.filter(safety_check=check).update(status="UNANSWERED")
    replays = set(rng.sample(ids, len(ids) // 20))
    jobs = [(pk, "NEED_HELP" if i % 1000 == 0 else "SAFE", i % 3 == 0) for i, pk in enumerate(ids)]
    jobs += [(pk, "SAFE", False) for pk in replays]
    rng.shuffle(jobs)
    chunks = [jobs[i::args.threads] for i in range(args.threads)]
    answered_keys = {}

    def worker(chunk):
        try:
            for pk, status, by_sms in chunk:
                row = SafetyStatus.objects.select_related("resident__user", "grid", "safety_check").get(pk=pk)
                status = answered_keys.setdefault(pk, status)
                answer_safety_check(row, status, by=row.resident.user, channel="SMS" if by_sms else "APP",
                                    client_key=f"bench-{pk}")
        finally:
            connection.close()

    def run_answers():
        threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    if vendor == "sqlite":
        t_ans, _ = timed(lambda: [worker(c) for c in chunks])
    else:
        t_ans, _ = timed(run_answers)
    counts = safety_counts(SafetyCheck.objects.get(pk=check.pk))
    recorded = counts.overall.accounted_for
    answers = SafetyAnswer.objects.filter(status_row__safety_check=check).count()
    print(f"3. {len(jobs):,} answers ({len(replays):,} replays) in {t_ans:.1f} s = {len(jobs) / t_ans:,.0f}/s "
          f"({args.threads} thread(s)); recorded {recorded:,}/{len(ids):,} = {100 * recorded / len(ids):.2f}%, "
          f"answer rows {answers:,} (duplicates {answers - len(ids):,}); bare UPDATE baseline {len(ids) / t_base:,.0f}/s "
          f"-> ratio {t_ans / len(jobs) / (t_base / len(ids)):.1f}x the cost per answer")
    assert recorded == len(ids) and answers == len(ids)


def time_fan_out(args, run_in_this_process) -> float:
    if not args.processes:
        return timed(run_in_this_process)[0]
    pool = start_job_processes(args.processes)  # started (Django set up) before the clock, like running workers
    seconds, _ = timed(lambda: run_jobs_in_processes(pool))
    pool.close()
    pool.join()
    return seconds


def _job_process_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()


def _drive_job(model_label: str, pk: int) -> str:
    from django.apps import apps

    from emergency.fanout import drive
    from emergency.tasks import JOBS

    model = apps.get_model(model_label)
    chunk = next(c for _, m, c in JOBS if m is model)
    return drive(model, pk, chunk, budget=3600)


def start_job_processes(n: int):
    import multiprocessing

    pool = multiprocessing.get_context("spawn").Pool(n, initializer=_job_process_setup)
    pool.map(int, range(n))  # every process up and Django set up before the clock starts
    return pool


def run_jobs_in_processes(pool) -> None:
    """Each due job (plan run, alert, safety check) driven in a worker process as soon as it is
    due, until none is due and none is running: what Celery's prefork workers do."""
    from emergency.fanout import due
    from emergency.tasks import JOBS

    started: set[tuple[str, int]] = set()
    running = []
    while True:
        fresh = [(model._meta.label, pk) for _, model, _ in JOBS for pk in due(model)
                 if (model._meta.label, pk) not in started]
        for key in fresh:
            started.add(key)
            running.append(pool.apply_async(_drive_job, key))
        running = [r for r in running if not r.ready() or r.get() is None]
        if not fresh and not running and not [pk for _, model, _ in JOBS for pk in due(model)]:
            return
        time.sleep(0.05)


def naive_rate(args, sub, commander) -> float:
    """Per-recipient cost of the obvious loop: one notify() and one queue_sms() per resident."""
    from django.db import transaction

    from community.models import Resident
    from notifications.outbox import queue_sms
    from notifications.services import notify

    sample = list(Resident.objects.in_area(sub).select_related("user").order_by("pk")[: args.naive_sample])
    start = time.perf_counter()
    with transaction.atomic():
        for r in sample:
            if r.uses_app:
                notify(r.user, kind="bench", title="台风", body="请留在室内")
            if r.sms_phone:
                queue_sms(template="sms.text", context={"text": "台风"}, purpose="bench", idempotency_key=f"bench:{r.pk}",
                          phone=r.sms_phone)
        transaction.set_rollback(True)
    return len(sample) / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
