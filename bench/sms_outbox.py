"""SMS outbox benchmark: write N outbox messages, drain them through the fake Twilio server
(real twilio client, real Celery worker in-process) at a set rate, and report enqueue time,
achieved messages/second against the limit, and messages lost or doubled (must be 0).

Baseline, measured in the same run: the raw round-trip rate of the fake through the same
twilio client with no outbox, no database and no pacing (what the machine could do).

    .venv/bin/python bench/sms_outbox.py                  # 10,000 messages at 200/s
    .venv/bin/python bench/sms_outbox.py --messages 2000 --rate 50 --inject-429 0.05

Runs on a throw-away SQLite file unless DATABASE_URL is set (then use a scratch database:
the benchmark writes to it). REDIS_URL, when set, makes the rate limiter use Redis.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="SMS_RATE_PER_SECOND (the provider limit)")
    parser.add_argument("--workers", type=int, default=4, help="Celery worker threads (= SMS_MAX_DRAINERS)")
    parser.add_argument("--batch", type=int, default=1000, help="items per queue_sms_bulk call (one enqueue each)")
    parser.add_argument("--baseline", type=int, default=2000, help="raw round trips for the baseline")
    parser.add_argument("--inject-429", type=float, default=0.0, help="fraction of creates the fake answers 429")
    parser.add_argument("--timeout", type=float, default=900.0)
    return parser.parse_args()


def setup_django(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LINLI_EMBEDDED_WORKER", "0")
    if not os.environ.get("DATABASE_URL"):
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class RemoteFake:
    """The fake Twilio server in its own process, so its CPU is not counted against ours."""

    account_sid = "AC" + "f" * 32
    auth_token = "fake-twilio-auth-token-0123456789"

    def __init__(self):
        import subprocess

        self.process = subprocess.Popen([sys.executable, "-m", "tests.fake_twilio"],  # a module: it imports tests.loopback
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self.base_url = self.process.stdout.readline().strip()

    def reset(self, random_answers: dict) -> None:
        import json

        import requests

        requests.post(f"{self.base_url}/__fake__/reset", data={"random_answers": json.dumps(random_answers)}, timeout=5)

    def recorded(self) -> dict:
        import requests

        return requests.get(f"{self.base_url}/__fake__/recorded", timeout=30).json()

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(5)


def configure(fake, args) -> None:
    from django.conf import settings

    from tests.fake_twilio import MESSAGING_SERVICE_SID

    settings.SMS_BACKEND = "notifications.transports.twilio.TwilioTransport"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = fake.account_sid, fake.auth_token
    settings.TWILIO_MESSAGING_SERVICE_SID, settings.TWILIO_API_BASE_URL = MESSAGING_SERVICE_SID, fake.base_url
    settings.PUBLIC_BASE_URL = "https://linli.example"
    settings.SMS_RATE_PER_SECOND, settings.SMS_RATE_BURST = args.rate, 1.0
    settings.SMS_MAX_DRAINERS = args.workers
    settings.SMS_RETRY_BASE_SECONDS, settings.SMS_RETRY_MAX_SECONDS = 0.5, 5.0
    settings.SMS_DRAIN_SECONDS = 30.0
    settings.RATE_LIMIT_PREFIX = f"linli:bench:{uuid.uuid4().hex}:"


def baseline(fake, args) -> float:
    """Raw create round trips through the twilio client, `workers` threads, no pacing."""
    from notifications.transports.twilio import TwilioTransport

    transport = TwilioTransport()
    n = args.baseline
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(lambda i: transport.send(to=f"+86138{i:08d}", body=f"baseline {i}"), range(n)))
    return n / (time.perf_counter() - started)


def enqueue(args) -> float:
    from django.db import transaction

    from notifications.outbox import queue_sms_bulk
    from notifications.templates import register_template

    register_template("bench.alert", zh="【邻里】演练通知 {n}：请回复平安。", en="Linli drill {n}: reply safe.")
    started = time.perf_counter()
    for start in range(0, args.messages, args.batch):
        items = [dict(template="bench.alert", context={"n": i}, purpose="bench", idempotency_key=f"bench:{i}",
                      phone=f"+86139{i:08d}") for i in range(start, min(start + args.batch, args.messages))]
        with transaction.atomic():
            queue_sms_bulk(items)
    return time.perf_counter() - started


def wait_until_drained(args) -> None:
    from notifications.models import SmsMessage, SmsStatus

    deadline = time.monotonic() + args.timeout
    while SmsMessage.objects.filter(status__in=[SmsStatus.QUEUED, SmsStatus.SENDING]).exists():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the outbox to drain")
        time.sleep(0.5)


def main() -> None:
    args = parse_args()
    setup_django(args)
    from backend.embedded import start_embedded_worker
    from notifications.models import SmsMessage, SmsStatus

    fake = RemoteFake()
    configure(fake, args)
    SmsMessage.objects.filter(purpose="bench").delete()
    raw_rate = baseline(fake, args)
    fake.reset({"429": args.inject_429} if args.inject_429 else {})

    start_embedded_worker(concurrency=args.workers, beat=False)
    enqueue_seconds = enqueue(args)
    committed = time.monotonic()
    wait_until_drained(args)
    drained = time.monotonic()

    recorded = fake.recorded()
    bodies = Counter(m["body"] for m in recorded["messages"])
    expected = set(SmsMessage.objects.filter(purpose="bench").values_list("body", flat=True))
    doubled = sum(c - 1 for c in bodies.values() if c > 1)
    lost = len(expected - set(bodies))
    sent_rows = SmsMessage.objects.filter(purpose="bench", status=SmsStatus.SENT, provider_sid__isnull=False).count()
    times = recorded["create_times"]
    span = (times[-1] - times[0]) if len(times) > 1 else float("nan")
    achieved = (len(times) - 1) / span if len(times) > 1 else float("nan")
    retries = recorded["posts"] - len(recorded["messages"])
    print(f"messages               {args.messages}  (limit {args.rate:g}/s, {args.workers} workers, "
          f"{args.inject_429:.0%} answered 429)")
    print(f"enqueue                {enqueue_seconds:.2f} s  ({args.messages / enqueue_seconds:,.0f} rows/s, "
          f"{-(-args.messages // args.batch)} enqueues)")
    print(f"drain                  {drained - committed:.1f} s from commit to empty outbox")
    print(f"achieved rate          {achieved:.1f} msg/s = {achieved / args.rate:.3f} x the limit")
    print(f"baseline (raw fake)    {raw_rate:.1f} msg/s  -> paced outbox at {achieved / raw_rate:.3f} x raw")
    print(f"429s retried           {retries}")
    print(f"rows sent with SID     {sent_rows} / {args.messages}")
    print(f"lost                   {lost}")
    print(f"doubled                {doubled}")
    fake.stop()
    ok = lost == doubled == 0 and sent_rows == args.messages
    threading.Timer(0.1, lambda: os._exit(0 if ok else 1)).start()


if __name__ == "__main__":
    main()
