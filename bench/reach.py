"""Reach benchmark: does every resident's "are you safe?" reach a carrier within minutes?

A subdistrict of N residents (85% with a phone, 1% of those foreign numbers; 2% app users; 10%
vulnerable) declares EMERGENCY with a plan that issues an alert and starts a safety check. The
real Celery worker runs in-process (threads, both queues) with the real fan-outs, lanes,
routes and drainers; mainland numbers go through the real Alibaba Cloud SDK to the fake
Aliyun server (its own process) allowing --rate messages per second in batches, foreign
numbers through the real twilio library to the fake Twilio server, paced at --twilio-rate.
After --cancel-after seconds the alert is cancelled (its texts not yet handed over must never
be sent; the all-clear goes only to those told).

Reports, from the declaration: time until the first and the last safety question is handed to
a carrier, for vulnerable residents and for everyone, per route; the achieved rate on the
domestic route against the configured rate (goal >= 0.9); whether every vulnerable resident's
message was handed over before any other message of the same lane and route; messages lost,
doubled, and superseded-but-sent (all must be 0). Baseline in the same run: raw send_batch
round trips of the same SDK to an unthrottled fake (no outbox, no database, no pacing).

    .venv/bin/python bench/reach.py                        # 5,000 residents at 500/s (a few minutes)
    .venv/bin/python bench/reach.py --full                 # 50,000 residents
    .venv/bin/python bench/reach.py --rate 200 --alert-severity Moderate --cancel-after 0

Two footings. By default a throw-away SQLite file, with the Celery worker in this process
(threads: the fan-outs and the drainers share one interpreter and SQLite's single writer).
With DATABASE_URL (PostgreSQL) and REDIS_URL set — the production footing — a scratch
database, Redis as broker and token buckets, and two worker processes: one for the
life_safety queue and one for the default queue, as the Procfile runs them.

    DATABASE_URL=postgres://postgres@127.0.0.1/linli REDIS_URL=redis://127.0.0.1:6379/12 \
        .venv/bin/python bench/reach.py --full
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CENTER = (30.2741, 120.1551)
FOREIGN = ["+447911{:06d}", "+14155{:06d}", "+6591{:06d}"]  # valid mobile ranges (UK, US, Singapore)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=5_000)
    parser.add_argument("--full", action="store_true", help="50,000 residents")
    parser.add_argument("--rate", type=float, default=500.0, help="the domestic provider's messages/s (fake and config)")
    parser.add_argument("--twilio-rate", type=float, default=1.0, help="Twilio messages/s (a long code: 1)")
    parser.add_argument("--alert-severity", default="Severe", help="Extreme/Severe (life-safety lane), Moderate, none")
    parser.add_argument("--cancel-after", type=float, default=10.0, help="seconds until the alert is cancelled (0: never)")
    parser.add_argument("--workers", type=int, default=4, help="Celery worker threads (per queue on PostgreSQL)")
    parser.add_argument("--fanout-chunk", type=int, default=1000, help="EMERGENCY_FANOUT_CHUNK: residents per chunk")
    parser.add_argument("--baseline", type=int, default=5_000, help="messages for the raw baseline")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drain-only", type=int, default=0, metavar="N",
                        help="instead: N questions already queued, one drainer, no fan-out (the outbox's own pace)")
    args = parser.parse_args()
    if args.full:
        args.residents = 50_000
    return args


def production_footing() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(os.environ.get("REDIS_URL"))


def setup_django(env: dict[str, str]) -> tuple[str, tuple[str, str] | None]:
    """Django configured by the environment the worker processes get too; returns the
    database vendor and, on the production footing, (admin URL, scratch URL) to drop after."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LINLI_EMBEDDED_WORKER", "0")
    scratch = None
    if production_footing():
        from bench.footing import scratch_database

        scratch = scratch_database(os.environ["DATABASE_URL"], "reach")
        os.environ["DATABASE_URL"] = scratch[1]
    else:
        os.environ["CELERY_BROKER_URL"] = "memory://"
        os.environ.pop("REDIS_URL", None)
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'reach.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor, scratch


def environment(args, aliyun_url: str, twilio_url: str) -> dict[str, str]:
    """Routes, providers, templates and paces, as a deployment sets them."""
    from tests.fake_aliyun_sms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, template_codes
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID

    return {
        "SMS_ROUTE_DOMESTIC": "aliyun", "SMS_ROUTE_INTERNATIONAL": "twilio",
        "ALIYUN_SMS_RATE_PER_SECOND": str(args.rate), "TWILIO_SMS_RATE_PER_SECOND": str(args.twilio_rate),
        "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID, "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": SIGN_NAME, "ALIYUN_SMS_ENDPOINT": aliyun_url,
        "ALIYUN_SMS_TEMPLATES": json.dumps(template_codes()),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID, "TWILIO_API_BASE_URL": twilio_url,
        "PUBLIC_BASE_URL": "https://linli.example", "SMS_HTTP_TIMEOUT": "10", "SMS_DRAIN_SECONDS": "30",
        "RATE_LIMIT_PREFIX": f"linli:bench:{uuid.uuid4().hex}:", "EMERGENCY_FANOUT_CHUNK": str(args.fanout_chunk),
        "DEBUG": "1", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }


def start_workers(args) -> list[subprocess.Popen]:
    """Production footing: a worker for the life_safety queue and one for the default queue."""
    workers = []
    for queue in ("life_safety", "celery"):
        log = Path(tempfile.gettempdir()) / f"linli-reach-{queue}-{os.getpid()}.log"
        command = [sys.executable, "-m", "celery", "-A", "backend", "worker", "-Q", queue, "--pool", "threads",
                   "--concurrency", str(args.workers), "--hostname", f"{queue}@reach", "--without-mingle",
                   "--without-gossip", "--loglevel", "INFO"]
        with log.open("w") as out:
            worker = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker {queue} did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        workers.append(worker)
    return workers


class FakeAliyunProcess:
    """tests/fake_aliyun_sms.py in its own process (its CPU is not ours)."""

    def __init__(self, rate: float | None):
        command = [sys.executable, "-m", "tests.fake_aliyun_sms"]  # a module: it imports tests.loopback
        if rate:
            command += ["--messages-per-second", str(rate)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self.base_url = (self.process.stdout.readline() if self.process.stdout else "").strip()

    def recorded(self) -> dict:
        with urllib.request.urlopen(f"{self.base_url}/__fake__/recorded", timeout=60) as response:
            return json.load(response)

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(5)


def build(args, rng: random.Random):
    """The subdistrict (4 communities x 4 grids) and its residents, written in bulk."""
    from community.models import Area, AreaKind, Resident, User

    tag = f"r{int(time.time())}"
    city = Area.objects.add_root(create_kwargs=dict(name="基准市", code=tag, kind=AreaKind.CITY,
                                                    center_lat=CENTER[0], center_lng=CENTER[1]))
    sub = Area.objects.add_child(Area.objects.get(pk=city.pk), create_kwargs=dict(
        name="基准街道", code=f"{tag}-s", kind=AreaKind.SUBDISTRICT, center_lat=CENTER[0], center_lng=CENTER[1]))
    grids = []
    for c in range(4):
        com = Area.objects.add_child(Area.objects.get(pk=sub.pk), create_kwargs=dict(
            name=f"社区{c}", code=f"{tag}-c{c}", kind=AreaKind.COMMUNITY, center_lat=CENTER[0] + 0.01 * c,
            center_lng=CENTER[1]))
        for g in range(4):
            grids.append(Area.objects.add_child(Area.objects.get(pk=com.pk), create_kwargs=dict(
                name=f"网格{c}-{g}", code=f"{tag}-c{c}-{g}", kind=AreaKind.GRID,
                center_lat=CENTER[0] + 0.01 * c + 0.002 * g, center_lng=CENTER[1] + 0.002 * g)))
    commander = User.objects.create_user(username=f"{tag}-cmd", password=None)
    app_users = int(args.residents * 0.02)
    User.objects.bulk_create([User(username=f"{tag}-u{i}", phone=f"+86135{i:08d}") for i in range(app_users)],
                             batch_size=2000)
    users = list(User.objects.filter(username__startswith=f"{tag}-u").order_by("id"))
    rows = []
    for i in range(args.residents):
        grid = grids[i % len(grids)]
        phone = None
        if i < app_users:
            phone = f"+86135{i:08d}"
        elif rng.random() < 0.85:
            phone = rng.choice(FOREIGN).format(i) if rng.random() < 0.01 else f"+86136{i:08d}"
        r = Resident(display_name=f"居民{i}", grid=grid, user=users[i] if i < app_users else None, phone=phone,
                     elderly_living_alone=rng.random() < 0.10)
        r.set_location(grid.center_lat + rng.uniform(-0.002, 0.002), grid.center_lng + rng.uniform(-0.002, 0.002))
        r.refresh_vulnerability()
        rows.append(r)
    Resident.objects.bulk_create(rows, batch_size=2000)
    return sub, commander


def baseline(args) -> float:
    """Raw send_batch round trips through the same SDK to an unthrottled fake: no outbox,
    no database, no pacing (what the machine and the SDK could do)."""
    from django.conf import settings

    from notifications.transports.aliyun import AliyunTransport
    from notifications.transports.base import OutgoingSms

    fake = FakeAliyunProcess(None)
    endpoint = settings.ALIYUN_SMS_ENDPOINT
    settings.ALIYUN_SMS_ENDPOINT = fake.base_url
    try:
        transport = AliyunTransport()
        messages = [OutgoingSms(message_id=i + 1, to=f"+86138{i:08d}", body="", template="emergency.safety.sms",
                                params={"title": "台风报平安", "code": f"B{i % 997:03d}"})
                    for i in range(args.baseline)]
        started = time.perf_counter()
        for start in range(0, len(messages), 100):
            transport.send_batch(messages[start:start + 100])
        return len(messages) / (time.perf_counter() - started)
    finally:
        settings.ALIYUN_SMS_ENDPOINT = endpoint
        fake.stop()


def questions_out(check_id: int | None) -> bool:
    from notifications.models import SmsMessage, SmsStatus

    if check_id is None:
        return False
    waiting = SmsMessage.objects.filter(purpose="safety_check", status__in=[SmsStatus.QUEUED, SmsStatus.SENDING])
    return not waiting.exists() and SmsMessage.objects.filter(purpose="safety_check").exists()


def everything_out() -> bool:
    from notifications.models import SmsMessage, SmsStatus

    return not SmsMessage.objects.filter(status__in=[SmsStatus.QUEUED, SmsStatus.SENDING]).exists()


def sample(t0: float) -> tuple[float, int, int]:
    from notifications.models import SmsMessage, SmsStatus

    domestic = SmsMessage.objects.filter(route="+86")
    handed = domestic.filter(sent_at__isnull=False).count()
    waiting = domestic.filter(status__in=[SmsStatus.QUEUED, SmsStatus.SENDING]).count()
    return time.time() - t0, handed, waiting


def backlog_rate(samples: list[tuple[float, int, int]], rate: float, *, after: float = 0.0,
                 before: float = float("inf")) -> tuple[float, float]:
    """Messages per second handed over while at least a second's worth was waiting (so the
    provider's pace, not the fan-out writing rows, was the limit), between `after` and
    `before` seconds, and how many seconds that was."""
    sent = seconds = 0.0
    for (t1, h1, w1), (t2, h2, _) in zip(samples, samples[1:], strict=False):
        if w1 >= rate and after <= t1 and t2 <= before:
            sent, seconds = sent + (h2 - h1), seconds + (t2 - t1)
    return (sent / seconds if seconds else float("nan")), seconds


def drain_only(args, aliyun: FakeAliyunProcess) -> None:
    """N safety questions already in the outbox and one drainer on the domestic route: the
    rate the outbox itself reaches against the provider's limit, with no fan-out beside it."""
    from django.db import transaction
    from django.utils import timezone

    from notifications import delivery
    from notifications.lanes import Lane
    from notifications.models import SmsMessage, SmsStatus
    from notifications.outbox import queue_sms_bulk

    until = timezone.now() + datetime.timedelta(hours=1)
    with transaction.atomic():
        queue_sms_bulk([dict(template="emergency.safety.sms", context={"title": "台风报平安"}, purpose="safety_check",
                             idempotency_key=f"drain:{i}", phone=f"+86136{i:08d}", expects_reply=True, reply_until=until,
                             lane=Lane.LIFE_SAFETY, is_vulnerable=i % 10 == 0) for i in range(args.drain_only)])
    started = time.perf_counter()
    while SmsMessage.objects.filter(status=SmsStatus.QUEUED).exists():
        delivery.drain(route="+86", max_seconds=60)
    took = time.perf_counter() - started
    sent = SmsMessage.objects.filter(status=SmsStatus.SENT).count()
    print(f"drain only: {sent:,} of {args.drain_only:,} handed over in {took:.1f} s = {sent / took:,.1f} msg/s = "
          f"{sent / took / args.rate:.3f} x the configured {args.rate:g}/s; provider throttled "
          f"{aliyun.recorded()['throttled']} call(s)")


def seconds_from(t0: float, moment) -> float:
    return moment.timestamp() - t0 if moment is not None else float("nan")


def main() -> None:  # noqa: C901 - one report, read top to bottom
    args = parse_args()
    from bench.sms_outbox import RemoteFake

    aliyun, twilio = FakeAliyunProcess(args.rate), RemoteFake()
    vendor, scratch = setup_django(environment(args, aliyun.base_url, twilio.base_url))
    if args.drain_only:
        try:
            drain_only(args, aliyun)
        finally:
            aliyun.stop()
            twilio.stop()
            if scratch:
                from bench.footing import drop_database

                drop_database(*scratch)
        return
    from django.db.models import Max, Min

    from backend.embedded import start_embedded_worker
    from bench.footing import drop_database, stop
    from community.models import Area, Mode
    from emergency.alerts import cancel_alert
    from emergency.models import Alert, FanoutStatus, SafetyCheck
    from emergency.plans import save_plan_version
    from emergency.switching import switch_mode
    from notifications.lanes import Lane
    from notifications.models import SmsMessage, SmsStatus
    from tests.fake_aliyun_sms import aliyun_phone, template_codes

    rng = random.Random(args.seed)
    print(f"reach benchmark on {vendor}{' + Redis, worker processes per queue' if scratch else ', worker threads in process'}: {args.residents:,} residents, domestic provider {args.rate:g}/s in batches, "
          f"Twilio {args.twilio_rate:g}/s, alert {args.alert_severity}, cancelled after {args.cancel_after:g} s")
    built = time.perf_counter()
    sub, commander = build(args, rng)
    print(f"  data built in {time.perf_counter() - built:.1f} s")
    raw = baseline(args)
    actions: list[dict] = []
    if args.alert_severity.lower() != "none":
        actions.append({"type": "ALERT", "params": {
            "categories": ["Met"], "event": "台风", "urgency": "Immediate", "severity": args.alert_severity,
            "certainty": "Likely", "headline": "台风即将登陆", "instruction": "请留在室内，远离窗户"}})
    actions.append({"type": "SAFETY_CHECK", "params": {"title": "台风报平安"}})
    save_plan_version(sub, Mode.EMERGENCY, name="防台风预案", actions=actions, by=commander)

    workers: list[subprocess.Popen] = []
    try:
        workers = start_workers(args) if scratch else []
        if not scratch:
            start_embedded_worker(concurrency=args.workers, beat=False)
        t0 = time.time()
        switch_mode(Area.objects.get(pk=sub.pk), Mode.EMERGENCY, by=commander, reason="台风")
        cancelled = None
        deadline = time.monotonic() + args.timeout
        check_id = None
        samples: list[tuple[float, int, int]] = []  # (seconds, handed over, waiting) on the domestic route
        while not (questions_out(check_id) and everything_out()):
            if time.monotonic() > deadline:
                raise SystemExit("timed out")
            samples.append(sample(t0))
            check = SafetyCheck.objects.filter(area=sub).first()
            if check is not None and check.fanout_status == FanoutStatus.DONE:
                check_id = check.pk
            alert = Alert.objects.filter(area=sub, msg_type="Alert").first()
            if args.cancel_after and cancelled is None and alert is not None and time.time() - t0 >= args.cancel_after:
                cancelled = cancel_alert(alert, by=commander, note="台风已转向，预警解除。")
                print(f"  alert cancelled at {time.time() - t0:.1f} s")
            time.sleep(0.25)
        finished = time.time() - t0

        questions = SmsMessage.objects.filter(purpose="safety_check")
        print(f"\nsafety questions: {questions.count():,} (status: {dict(Counter(questions.values_list('status', flat=True)))})")
        report: dict[str, float] = {}
        for route, label in (("+86", "domestic (Aliyun)"), ("*", "international (Twilio)")):
            rows = questions.filter(route=route)
            if not rows.exists():
                continue
            vulnerable = rows.filter(is_vulnerable=True).aggregate(first=Min("sent_at"), last=Max("sent_at"))
            everyone = rows.aggregate(first=Min("sent_at"), last=Max("sent_at"))
            report[f"{route} vulnerable"] = seconds_from(t0, vulnerable["last"])
            report[f"{route} everyone"] = seconds_from(t0, everyone["last"])
            print(f"  {label:24} {rows.count():>6,} questions: first handed over at {seconds_from(t0, everyone['first']):6.1f} s; "
                  f"last vulnerable at {seconds_from(t0, vulnerable['last']):6.1f} s; last of everyone at "
                  f"{seconds_from(t0, everyone['last']):6.1f} s")

        first_rows = {p: seconds_from(t0, SmsMessage.objects.filter(purpose=p).aggregate(t=Min("created_at"))["t"])
                      for p in ("alert", "safety_check")}
        first_sent = {p: seconds_from(t0, SmsMessage.objects.filter(purpose=p).aggregate(t=Min("sent_at"))["t"])
                      for p in ("alert", "safety_check")}
        print(f"  timeline: first alert text written {first_rows['alert']:.1f} s, handed over {first_sent['alert']:.1f} s; "
              f"first question written {first_rows['safety_check']:.1f} s, handed over {first_sent['safety_check']:.1f} s")
        domestic = SmsMessage.objects.filter(route="+86", provider="aliyun", status=SmsStatus.SENT)
        fanned = max(seconds_from(t0, m) for m in (Alert.objects.filter(area=sub).aggregate(t=Max("fanout_finished_at"))["t"],
                                                 SafetyCheck.objects.filter(area=sub).aggregate(t=Max("fanout_finished_at"))["t"]))
        achieved, busy = backlog_rate(samples, args.rate)
        during, during_s = backlog_rate(samples, args.rate, before=fanned)
        after, after_s = backlog_rate(samples, args.rate, after=fanned)
        print(f"  fan-outs (alert, safety check) finished at {fanned:.1f} s")
        print(f"\ndomestic route: {domestic.count():,} messages handed over; while a backlog waited ({busy:.1f} s) "
              f"{achieved:,.1f} msg/s = {achieved / args.rate:.3f} x the configured {args.rate:g}/s (goal >= 0.9): "
              f"{during:,.1f}/s while the fan-outs ran ({during_s:.1f} s), {after:,.1f}/s = {after / args.rate:.3f} x "
              f"after ({after_s:.1f} s)")
        print(f"baseline (raw SDK round trips, no outbox): {raw:,.0f} msg/s -> the paced outbox uses "
              f"{achieved / raw:.3f} of it")

        # Vulnerable first: per kind of message (the questions; the alert) and route, in one lane,
        # no other resident's message before the last vulnerable resident's.
        violations = 0
        for purpose in ("safety_check", "alert"):
            for route in ("+86", "*"):
                for lane in Lane:
                    rows = SmsMessage.objects.filter(purpose=purpose, route=route, lane=lane, sent_at__isnull=False)
                    if purpose == "alert" and cancelled is not None:
                        rows = rows.exclude(related_id=str(cancelled.pk))
                    last_vulnerable = rows.filter(is_vulnerable=True).aggregate(last=Max("sent_at"))["last"]
                    if last_vulnerable is not None:
                        violations += rows.filter(is_vulnerable=False, sent_at__lt=last_vulnerable).count()
        print(f"vulnerable first: {violations} other resident(s) handed over before the last vulnerable one "
              f"(per message kind, route and lane)")

        # Lost, doubled, superseded-but-sent: what each fake accepted against what we recorded as
        # handed over, per (number, template); a superseded row whose key the fake has more often
        # than we sent it was sent after all.
        recorded = aliyun.recorded()
        codes = {name: variants["zh-hans"] for name, variants in template_codes().items()}
        at_fake = Counter((m["phone"], m["template_code"]) for m in recorded["messages"])
        at_fake.update((m["to"], m["body"]) for m in twilio.recorded()["messages"])

        def key(m: SmsMessage) -> tuple[str, str]:
            return (aliyun_phone(m.phone), codes.get(m.template, "")) if m.provider == "aliyun" else (m.phone, m.body)

        ours = Counter(key(m) for m in SmsMessage.objects.filter(status=SmsStatus.SENT))
        superseded = list(SmsMessage.objects.filter(status=SmsStatus.SUPERSEDED))
        superseded_keys = {(aliyun_phone(m.phone), codes.get(m.template, "")) if m.route == "+86" else (m.phone, m.body)
                           for m in superseded}
        extra = {k: n - ours.get(k, 0) for k, n in at_fake.items() if n > ours.get(k, 0)}
        superseded_sent = sum(n for k, n in extra.items() if k in superseded_keys)
        doubled = sum(n for k, n in extra.items() if k not in superseded_keys)
        lost = sum(n - at_fake.get(k, 0) for k, n in ours.items() if n > at_fake.get(k, 0))
        unsent = SmsMessage.objects.exclude(status__in=[SmsStatus.SENT, SmsStatus.SUPERSEDED]).count()
        all_clear = SmsMessage.objects.filter(purpose="alert", related_id=str(cancelled.pk)).count() if cancelled else 0
        print(f"superseded (never to be sent): {len(superseded):,}; all-clear texts {all_clear:,} (only to those told)")
        print(f"provider calls {recorded['calls']:,}, throttled {recorded['throttled']:,}")
        print(f"lost {lost + unsent}, doubled {doubled}, superseded sent {superseded_sent}; "
              f"everything out at {finished:.1f} s")
    finally:  # whatever happened, nothing is left running
        aliyun.stop()
        twilio.stop()
        for worker in workers:
            stop(worker)
        if scratch:
            drop_database(*scratch)
    ok = lost + unsent + doubled + superseded_sent == 0 and violations == 0
    threading.Timer(0.1, lambda: os._exit(0 if ok else 1)).start()


if __name__ == "__main__":
    main()
