"""Push transport throughput: N pushes through each provider's real client library to its
fake server (tests/fake_apns.py, fake_fcm.py, fake_jpush.py) at an unlimited rate, and the
pushes per second handed over. A throughput check, not a timed test.

The fake runs in its own process (multiprocessing), so its CPU is not counted against the
client's interpreter; on a 2-core machine client and fake each get a core.

    .venv/bin/python bench/push_transports.py                       # 20,000 through each
    .venv/bin/python bench/push_transports.py --pushes 50000 --providers apns
    .venv/bin/python bench/push_transports.py --distinct            # JPush: no grouping

JPush sends identical payloads to up to 1,000 registration ids per call: by default every
push carries the same alert (a safety-check prompt), --distinct gives each its own text.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=20_000)
    parser.add_argument("--providers", default="apns,fcm,jpush")
    parser.add_argument("--callers", type=int, default=4, help="threads calling send_batch at once (Celery workers)")
    parser.add_argument("--distinct", action="store_true", help="every push its own text (no JPush grouping)")
    parser.add_argument("--fcm-concurrency", type=int, default=32)
    return parser.parse_args()


class ChildFake:
    def __init__(self, module: str, cls: str, **kwargs: Any) -> None:
        from tests.fake_pacing import serve_in_child

        factory = getattr(__import__(module, fromlist=[cls]), cls)
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve_in_child, args=(factory, child, kwargs), daemon=True)
        self.process.start()
        self.info: dict[str, Any] = self.conn.recv()

    def stats(self) -> dict[str, Any]:
        self.conn.send("stats")
        return self.conn.recv()  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(10)


def configure(provider: str, info: dict[str, Any], args: argparse.Namespace) -> None:
    from django.conf import settings

    settings.PUSH_HTTP_TIMEOUT = 30.0
    if provider == "apns":
        ca = Path(tempfile.mkdtemp()) / "ca.pem"
        ca.write_text(info["ca_pem"])
        settings.APNS_KEY, settings.APNS_KEY_ID = info["key_pem"], info["key_id"]
        settings.APNS_TEAM_ID, settings.APNS_TOPIC = info["team_id"], info["topic"]
        settings.APNS_API_BASE_URL, settings.APNS_CA_FILE = info["base_url"], str(ca)
        settings.APNS_MAX_CONNECTIONS = 1
    elif provider == "fcm":
        settings.FCM_CREDENTIALS_JSON, settings.FCM_CREDENTIALS_FILE = info["credentials_json"], ""
        settings.FCM_PROJECT_ID, settings.FCM_API_BASE_URL = info["project_id"], info["base_url"]
        settings.FCM_CONCURRENCY = args.fcm_concurrency
    else:
        settings.JPUSH_APP_KEY, settings.JPUSH_MASTER_SECRET = info["app_key"], info["master_secret"]
        settings.JPUSH_API_BASE_URL = info["base_url"]


FAKES = {
    "apns": ("tests.fake_apns", "FakeAPNs", "notifications.push.apns.APNsTransport"),
    "fcm": ("tests.fake_fcm", "FakeFCM", "notifications.push.fcm.FCMTransport"),
    "jpush": ("tests.fake_jpush", "FakeJPush", "notifications.push.jpush.JPushTransport"),
}


def messages(provider: str, n: int, distinct: bool) -> list[Any]:
    from notifications.push.base import PushMessage

    platform = "ios" if provider == "apns" else "android"
    return [
        PushMessage(push_id=i + 1, token=f"{i:064x}" if provider == "apns" else f"token-{i:08d}", platform=platform,
                    title="安全确认", body=f"请报平安 #{i}" if distinct else "台风来临，请报平安",
                    data={"checkId": "U2FmZXR5Q2hlY2s6MQ==", "kind": "SAFETY_CHECK"}, collapse_key="check-1")
        for i in range(n)
    ]


def run(provider: str, args: argparse.Namespace) -> dict[str, Any]:
    from django.utils.module_loading import import_string

    module, cls, transport_path = FAKES[provider]
    fake = ChildFake(module, cls, record=False)
    try:
        configure(provider, fake.info, args)
        transport = import_string(transport_path)(provider=provider)
        batch = transport.max_batch
        pushes = messages(provider, args.pushes, args.distinct)
        transport.send_batch(pushes[:1])  # connect, first token: not part of the figure
        batches = [pushes[i:i + batch] for i in range(1, len(pushes), batch)]
        fake_cpu = fake.stats()["cpu_seconds"]
        started, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(args.callers) as pool:
            outcomes = [o for result in pool.map(transport.send_batch, batches) for o in result]
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        stats = fake.stats()
        stats["cpu_seconds"] = round(stats["cpu_seconds"] - fake_cpu, 2)
        transport.close()
        failed = [o for o in outcomes if not hasattr(o, "provider_id")]
        return {"provider": provider, "pushes": len(outcomes), "seconds": elapsed,
                "rate": len(outcomes) / elapsed, "failed": len(failed), "first_failure": failed[:1],
                "client_cpu": cpu, "fake": stats}
    finally:
        fake.stop()


def main() -> int:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("aioapns").setLevel(logging.WARNING)
    print(f"{args.pushes} pushes per provider, {args.callers} calling threads, cores={os.cpu_count()}")
    bad = 0
    for provider in args.providers.split(","):
        result = run(provider.strip(), args)
        bad += result["failed"]
        print(f"{result['provider']:6} {result['pushes']:7d} pushes in {result['seconds']:6.2f} s = "
              f"{result['rate']:8.0f} pushes/s  client cpu {result['client_cpu']:.1f} s  "
              f"failed={result['failed']} {result['first_failure']} fake={result['fake']}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
