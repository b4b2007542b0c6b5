"""Push fan-out benchmark (issue 15): a safety check in a subdistrict whose residents all use
the app, from the declaration to the last push handed to APNs, FCM or JPush.

N residents (default 5,000; --full 50,000), each with one device, 30% with a second one:
iPhones through APNs (30%), Android phones through JPush (60%: mainland China) or FCM (10%).
The fakes (tests/fake_apns.py, fake_fcm.py, fake_jpush.py) run in their own processes,
accepting --rate requests per second each (0: unpaced); the real transports (aioapns,
aiohttp + google-auth, the jpush SDK) talk to them. In this process: start_safety_check, the
fan-out to the end (status rows, notifications, one push outbox row per live device), then
one drainer per provider in its own process (as the life-safety Celery workers run; --drainers
threads: threads of this process), until every push is handed over. A throw-away SQLite database, or the PostgreSQL database
DATABASE_URL names (migrated; use a scratch one).

Reports: seconds from the declaration to the last push handed to its provider (goal < 10 s
for 50,000 residents on 2 cores), split into fan-out and drain; pushes lost (written but not
accepted by a fake) and doubled (accepted more than once) — both must be 0. Baseline in the
same run: the naive per-recipient loop (notify() then send_batch([one push]) for each
device, one by one) timed on a sample of --sample residents and scaled to N.

    .venv/bin/python bench/push_fanout.py                  # 5,000 residents
    .venv/bin/python bench/push_fanout.py --full           # 50,000 residents
    .venv/bin/python bench/push_fanout.py --rate 2000      # each fake accepts 2,000 requests/s
    DATABASE_URL=postgres://postgres@127.0.0.1/linli_scratch .venv/bin/python bench/push_fanout.py --full --overlap
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
CENTER = (30.2741, 120.1551)
PROVIDERS = ("apns", "fcm", "jpush")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=5_000)
    parser.add_argument("--full", action="store_true", help="50,000 residents")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s each fake accepts (0: unpaced)")
    parser.add_argument("--sample", type=int, default=300, help="residents in the naive baseline's sample")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--fcm-concurrency", type=int, default=32)
    parser.add_argument("--overlap", action="store_true",
                        help="drainers run while the fan-out writes (as Celery would); default: fan-out, then drain")
    parser.add_argument("--mix", choices=("direct", "jpush"), default="direct",
                        help="direct: iPhones via APNs 30%%, Android via JPush 60%% and FCM 10%% (default); "
                             "jpush: every phone registered with JPush (a mainland deployment, iOS via JPush's APNs channel)")
    parser.add_argument("--drainers", choices=("processes", "threads"), default="processes",
                        help="one drainer per provider in its own process (as the life-safety Celery workers run, "
                             "default) or in threads of this process")
    args = parser.parse_args()
    if args.full:
        args.residents = 50_000
    return args


def setup_django(migrate: bool = True) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
    os.environ["LINLI_EMBEDDED_WORKER"] = "0"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.pop("REDIS_URL", None)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):  # a PostgreSQL URL is used as given
        # A throw-away SQLite file, the same one in the drainer processes (spawned with this environment).
        os.environ.setdefault("PUSH_FANOUT_SQLITE", str(Path(tempfile.mkdtemp()) / "push_fanout.sqlite3"))
        os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['PUSH_FANOUT_SQLITE']}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.SMS_BACKEND = "notifications.transports.locmem.LocmemTransport"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    if migrate:
        call_command("migrate", verbosity=0)


def start_fakes(args: argparse.Namespace) -> dict[str, Any]:
    from push_transports import FAKES, ChildFake, configure

    fakes = {}
    for provider in PROVIDERS:
        module, cls, transport_path = FAKES[provider]
        fake = ChildFake(module, cls, record=False, rate=args.rate or None)
        configure(provider, fake.info, args)
        fakes[provider] = fake
    use_fakes()
    return fakes


def use_fakes() -> None:
    from django.conf import settings
    from push_transports import FAKES

    settings.PUSH_BACKENDS = {p: FAKES[p][2] for p in PROVIDERS}


def build(args: argparse.Namespace, rng: random.Random, n: int, tag: str, prefix: str = "+86135"):
    """A subdistrict of 16 grids and n residents with accounts and devices, in bulk."""
    from community.models import Area, AreaKind, Resident, User
    from notifications.models import Device

    city = Area.objects.add_root(create_kwargs=dict(name="基准市", code=tag, kind=AreaKind.CITY,
                                                    center_lat=CENTER[0], center_lng=CENTER[1]))
    sub = Area.objects.add_child(Area.objects.get(pk=city.pk), create_kwargs=dict(
        name="基准街道", code=f"{tag}-s", kind=AreaKind.SUBDISTRICT, center_lat=CENTER[0], center_lng=CENTER[1]))
    grids = []
    for c in range(4):
        com = Area.objects.add_child(Area.objects.get(pk=sub.pk), create_kwargs=dict(
            name=f"社区{c}", code=f"{tag}-c{c}", kind=AreaKind.COMMUNITY, center_lat=CENTER[0], center_lng=CENTER[1]))
        for g in range(4):
            grids.append(Area.objects.add_child(Area.objects.get(pk=com.pk), create_kwargs=dict(
                name=f"网格{c}-{g}", code=f"{tag}-c{c}-{g}", kind=AreaKind.GRID,
                center_lat=CENTER[0] + 0.002 * g, center_lng=CENTER[1] + 0.002 * c)))
    User.objects.bulk_create([User(username=f"{tag}-u{i}", phone=f"{prefix}{i:08d}") for i in range(n)], batch_size=2000)
    users = list(User.objects.filter(username__startswith=f"{tag}-u").order_by("id"))
    residents, devices = [], []
    for i, user in enumerate(users):
        grid = grids[i % len(grids)]
        r = Resident(display_name=f"居民{i}", grid=grid, user=user, phone=user.phone,
                     elderly_living_alone=rng.random() < 0.10)
        r.set_location(grid.center_lat, grid.center_lng)
        r.refresh_vulnerability()
        residents.append(r)
        for d in range(2 if rng.random() < 0.30 else 1):
            roll = rng.random()
            provider, platform = ("apns", "ios") if roll < 0.30 else ("jpush", "android") if roll < 0.90 else ("fcm", "android")
            if args.mix == "jpush":  # a mainland deployment: JPush's SDK on both platforms (iOS through JPush's APNs channel)
                provider = "jpush"
            token = f"{tag}{i:08d}{d}".encode().hex()[:64].rjust(64, "0") if provider == "apns" \
                else f"{tag}-{i:08d}-{d}-fcm-token-{provider}"[:64] if provider == "fcm" else f"{i:010d}{d}{tag[-6:]}"
            devices.append(Device(user=user, platform=platform, provider=provider, token=token))
    Resident.objects.bulk_create(residents, batch_size=2000)
    Device.objects.bulk_create(devices, batch_size=2000)
    return sub, users


def drain_loop(provider: str, go: Any, stop: Any, handed: Any) -> None:
    """Once `go` is set, drain `provider`'s life-safety pushes until `stop` is set and nothing
    is left; `handed` (a shared double) gets the wall-clock time of the last push handed over."""
    from django.db import connection

    from notifications import push_outbox
    from notifications.lanes import Lane

    go.wait()
    try:
        while True:
            report = push_outbox.drain(provider, max_lane=Lane.LIFE_SAFETY, max_seconds=5)
            if report.attempted:
                handed.value = time.time()
            elif stop.is_set():
                return
            else:
                time.sleep(0.05)
    finally:
        connection.close()


def drainer_process(provider: str, info: dict[str, Any], fcm_concurrency: int, go: Any, stop: Any, handed: Any) -> None:
    """A drainer in its own interpreter (spawned), as a life-safety Celery worker process."""
    setup_django(migrate=False)
    import logging

    from push_transports import configure

    logging.getLogger("aioapns").setLevel(logging.WARNING)
    configure(provider, info, argparse.Namespace(fcm_concurrency=fcm_concurrency))
    use_fakes()
    try:
        drain_loop(provider, go, stop, handed)
    finally:
        from notifications.push import close_push_transports

        close_push_transports()


class Drainers:
    """One drainer per provider: processes (default) or threads of this process."""

    def __init__(self, args: argparse.Namespace, fakes: dict[str, Any]) -> None:
        import multiprocessing

        from django.db import connections

        self.context = multiprocessing.get_context("spawn")
        self.go, self.stop = self.context.Event(), self.context.Event()
        self.handed = {p: self.context.Value("d", 0.0) for p in PROVIDERS}
        if args.drainers == "processes":
            connections.close_all()
            self.workers: list[Any] = [self.context.Process(
                target=drainer_process, args=(p, fakes[p].info, args.fcm_concurrency, self.go, self.stop, self.handed[p]),
                name=f"drain-{p}", daemon=True) for p in PROVIDERS]
        else:
            self.workers = [threading.Thread(target=drain_loop, args=(p, self.go, self.stop, self.handed[p]), name=f"drain-{p}")
                            for p in PROVIDERS]
        for worker in self.workers:
            worker.start()
        if args.drainers == "processes":
            time.sleep(6)  # Django set up in each, as in a Celery worker waiting for work

    def start(self) -> None:
        self.go.set()

    def finish(self) -> dict[str, float]:
        self.stop.set()
        for worker in self.workers:
            worker.join()
        return {p: v.value for p, v in self.handed.items() if v.value}


def pipeline(args: argparse.Namespace, fakes: dict[str, Any]) -> dict[str, Any]:
    from community.models import User
    from emergency.safety import start_safety_check
    from emergency.tasks import run_pending_emergency_jobs
    from notifications.models import DevicePush, PushStatus

    rng = random.Random(args.seed)
    sub, _ = build(args, rng, args.residents, f"p{int(time.time())}")
    commander = User.objects.create_user(username=f"cmd{time.time_ns()}", password=None)
    before = {p: fakes[p].stats() for p in PROVIDERS}
    drainers = Drainers(args, fakes)
    t0 = time.time()
    if args.overlap:
        drainers.start()
    check = start_safety_check(sub, by=commander, title="台风报平安")
    run_pending_emergency_jobs()
    fanned = time.time()
    drainers.start()
    while DevicePush.objects.filter(status__in=[PushStatus.QUEUED, PushStatus.SENDING]).exists():
        time.sleep(0.05)
    handed = drainers.finish()
    last = max(handed.values()) if handed else time.time()
    after = {p: fakes[p].stats() for p in PROVIDERS}
    accepted = {
        "apns": after["apns"]["accepted"] - before["apns"]["accepted"],
        "fcm": after["fcm"]["accepted"] - before["fcm"]["accepted"],
        "jpush": after["jpush"]["accepted_ids"] - before["jpush"]["accepted_ids"],
    }
    written = {p: DevicePush.objects.filter(provider=p).count() for p in PROVIDERS}
    sent = {p: DevicePush.objects.filter(provider=p, status=PushStatus.SENT).count() for p in PROVIDERS}
    calls = {"jpush": after["jpush"]["calls"] - before["jpush"]["calls"],
             "apns": after["apns"]["streams"] - before["apns"]["streams"],
             "fcm": after["fcm"]["sends"] - before["fcm"]["sends"]}
    return {"check": check.pk, "fanout_s": fanned - t0, "total_s": last - t0, "drain_s": last - fanned,
            "written": written, "sent": sent, "accepted": accepted, "calls": calls,
            "lost": sum(max(0, written[p] - accepted[p]) for p in PROVIDERS),
            "doubled": sum(max(0, accepted[p] - sent[p]) for p in PROVIDERS)}


def naive(args: argparse.Namespace) -> dict[str, Any]:
    """notify() and one send_batch per device, recipient by recipient, on a sample."""
    from notifications.models import Device, DevicePush, Notification
    from notifications.push import get_push_transport
    from notifications.push_outbox import push_message
    from notifications.services import notify

    rng = random.Random(args.seed + 1)
    _, users = build(args, rng, args.sample, f"n{int(time.time())}", prefix="+86137")
    started = time.perf_counter()
    pushes = 0
    for user in users:
        n = notify(user, kind="safety_check", title="台风报平安", body="您是否平安？", data={"safetyCheckId": "x"},
                   collapse_key="naive")
        for row in DevicePush.objects.filter(notification=n).select_related("device", "notification"):
            device = row.device
            assert isinstance(device, Device) and isinstance(row.notification, Notification)
            get_push_transport(row.provider).send_batch([push_message(row, device)])
            pushes += 1
    elapsed = time.perf_counter() - started
    per_resident = elapsed / len(users)
    return {"sample": len(users), "pushes": pushes, "seconds": elapsed, "scaled_s": per_resident * args.residents}


def main() -> int:
    args = parse_args()
    setup_django()
    import logging

    logging.getLogger("aioapns").setLevel(logging.WARNING)
    fakes = start_fakes(args)
    try:
        base = naive(args)
        result = pipeline(args, fakes)
    finally:
        from notifications.push import close_push_transports

        close_push_transports()
        for fake in fakes.values():
            fake.stop()
    from django.db import connection

    print(f"{args.residents} residents on {connection.vendor}, devices by provider {result['written']}, fakes at "
          f"{args.rate or 'unpaced'} requests/s, cores={os.cpu_count()}")
    print(f"declaration -> last push handed over: {result['total_s']:.1f} s (fan-out {result['fanout_s']:.1f} s, "
          f"drain {'overlapping' if args.overlap else 'after'}: last push {result['drain_s']:.1f} s after the fan-out); "
          f"provider requests {result['calls']}")
    print(f"lost {result['lost']}, doubled {result['doubled']}; accepted {result['accepted']}")
    print(f"naive per-recipient loop: {base['sample']} residents ({base['pushes']} pushes) in {base['seconds']:.1f} s "
          f"-> {base['scaled_s']:.0f} s for {args.residents} ({base['scaled_s'] / max(result['total_s'], 1e-9):.1f}x slower)")
    return 1 if result["lost"] or result["doubled"] else 0


if __name__ == "__main__":
    sys.exit(main())
