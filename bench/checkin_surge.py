"""Check-in surge: N residents answer a safety check (报平安) through the GraphQL API at once.

Production footing: uvicorn with several worker processes, PostgreSQL, Redis (channel layer,
broker, rate limits) and a Celery worker (with beat) taking the consequences (pushes, the
need-help tasks). C concurrent HTTP clients (aiohttp, keep-alive) on loopback post
`answerSafetyCheck` for N different residents, each with an idempotency key; a share of
them retry with the same key (a lost response). Reported: sustained answers per second,
p50/p99 latency, answers acknowledged vs rows recorded in the database (must be equal), and
duplicates (must be 0). Baseline in the same run: the same clients against /livez, a plain
Django view (the cost of the HTTP/ASGI stack without GraphQL or the database).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/checkin_surge.py --answers 50000 --workers 2 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.footing import (  # noqa: E402
    drop_database,
    free_port,
    pct,
    raise_open_files,
    require_services,
    scratch_database,
    start_asgi_server,
    start_celery_worker,
    stop,
)

ANSWER = (ROOT / "mobile_api_docs/operations/emergency/AnswerSafetyCheck.graphql").read_text()


def populate(residents: int) -> dict:
    """A community with 8 grids, `residents` residents who use the app, one safety check."""
    import django

    django.setup()
    from django.core.management import call_command
    from graphql_jwt.shortcuts import get_token
    from graphql_relay import to_global_id

    from community.geo import cell_of
    from community.models import Area, AreaKind, Resident, Role, RoleAssignment, User
    from emergency.safety import start_safety_check
    from emergency.tasks import run_pending_emergency_jobs

    call_command("migrate", verbosity=0)
    node = Area.objects.add_root(create_kwargs=dict(name="压测市", code="s", kind=AreaKind.CITY, center_lat=30.27, center_lng=120.15))
    for code, kind in (("s-d", AreaKind.DISTRICT), ("s-d-s", AreaKind.SUBDISTRICT), ("s-d-s-c", AreaKind.COMMUNITY)):
        node = Area.objects.add_child(Area.objects.get(pk=node.pk), create_kwargs=dict(name=code, code=code, kind=kind, center_lat=30.27, center_lng=120.15))
    community = node
    grids = [Area.objects.add_child(Area.objects.get(pk=community.pk), create_kwargs=dict(
        name=f"网格{g}", code=f"s-d-s-c-{g}", kind=AreaKind.GRID, center_lat=30.27 + g * 0.002, center_lng=120.15)) for g in range(8)]
    User.objects.bulk_create([User(username=f"r{i}", display_name=f"居民{i}", last_login=None) for i in range(residents)], batch_size=2000)
    users = list(User.objects.filter(username__startswith="r").order_by("pk"))
    rng = random.Random(7)
    rows = []
    for i, user in enumerate(users):
        grid = grids[i % len(grids)]
        lat, lng = grid.center_lat + rng.uniform(-0.001, 0.001), grid.center_lng + rng.uniform(-0.001, 0.001)
        rows.append(Resident(user=user, display_name=user.display_name, grid=grid, lat=lat, lng=lng, h3_cell=cell_of(lat, lng),
                             elderly_living_alone=(i % 20 == 0), is_vulnerable=(i % 20 == 0), consent_to_contact=True))
    Resident.objects.bulk_create(rows, batch_size=2000)
    admin = User.objects.create_user(username="surge-admin", password="x" * 12)
    RoleAssignment.objects.create(user=admin, area=Area.objects.get(pk=community.pk), role=Role.COMMUNITY_ADMIN)
    check = start_safety_check(Area.objects.get(pk=community.pk), by=admin, title="压测报平安", welfare_after_minutes=600)
    run_pending_emergency_jobs()
    return {"check_id": to_global_id("SafetyCheck", check.pk), "check_pk": check.pk, "tokens": [get_token(u) for u in users]}


async def fire(url: str, requests: list[tuple[dict | None, dict]], concurrency: int) -> tuple[list[float], list[dict], float]:
    """Send every (json body or None for GET, headers) with `concurrency` keep-alive clients."""
    import aiohttp

    latencies: list[float] = []
    answers: list[dict] = []
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def client():
            while not queue.empty():
                body, headers = queue.get_nowait()
                start = time.perf_counter()
                if body is None:
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        answers.append({"status": response.status})
                else:
                    async with session.post(url, json=body, headers=headers) as response:
                        answers.append({"status": response.status, "body": await response.json(content_type=None)})
                latencies.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, answers, time.perf_counter() - started


def answer_requests(data: dict, replay_share: float) -> list[tuple[dict, dict]]:
    rng = random.Random(11)
    out = []
    for i, token in enumerate(data["tokens"]):
        status = "NEED_HELP" if i % 100 == 0 else "SAFE"
        body = {"query": ANSWER, "variables": {"safetyCheckId": data["check_id"], "status": status, "key": str(uuid.UUID(int=i))}}
        headers = {"Authorization": f"Bearer {token}"}
        out.append((body, headers))
        if rng.random() < replay_share:
            out.append((body, headers))  # the response was lost; the app retries with the same key
    rng.shuffle(out)
    return out


def acknowledged(answers: list[dict]) -> tuple[int, int]:
    """(answers the server confirmed, HTTP 5xx)."""
    ok = sum(1 for a in answers if a["status"] == 200 and (a["body"].get("data") or {}).get("answerSafetyCheck", {}) and
             a["body"]["data"]["answerSafetyCheck"]["errors"] == [])
    return ok, sum(1 for a in answers if a["status"] >= 500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=50_000, help="residents answering (each once, plus replays)")
    parser.add_argument("--workers", type=int, default=2, help="ASGI server processes")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent HTTP clients")
    parser.add_argument("--replays", type=float, default=0.02, help="share of answers retried with the same key")
    args = parser.parse_args()
    database_url, redis_url = require_services()
    raise_open_files(args.concurrency * 4 + 1000)
    admin, scratch = scratch_database(database_url, "bench_surge")
    env = {**os.environ, "DATABASE_URL": scratch, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "backend.settings",
           "LINLI_EMBEDDED_WORKER": "0", "LOG_LEVEL": "WARNING",
           "CHANNEL_LAYER_PREFIX": f"linli-surge-{os.getpid()}", "RATE_LIMIT_PREFIX": f"linli:surge:{os.getpid()}:",
           "THROTTLE_PER_ADDRESS_PER_MINUTE": str(args.answers * 10)}
    os.environ.update(env)
    server = worker = None
    try:
        started = time.perf_counter()
        data = populate(args.answers)
        print(f"populated {args.answers} residents and the safety check in {time.perf_counter() - started:.1f} s", flush=True)
        port = free_port()
        server = start_asgi_server(port, args.workers, env)
        worker = start_celery_worker(env)
        base = f"http://127.0.0.1:{port}"
        requests = answer_requests(data, args.replays)
        baseline_n = min(len(requests), 20_000)
        base_lat, base_answers, base_seconds = asyncio.run(fire(f"{base}/livez", [(None, {})] * baseline_n, args.concurrency))
        lat, answers, seconds = asyncio.run(fire(f"{base}/graphql/", requests, args.concurrency))
        recorded, duplicates = count_recorded(data["check_pk"])
        report(args, len(requests), lat, answers, seconds, base_lat, base_answers, base_seconds, recorded, duplicates)
    finally:
        stop(worker)
        stop(server)
        drop_database(admin, scratch)


def count_recorded(check_pk: int) -> tuple[int, int]:
    from django.db.models import Count

    from emergency.models import SafetyAnswer, SafetyStatus

    recorded = SafetyStatus.objects.filter(safety_check_id=check_pk).exclude(status="UNANSWERED").count()
    keys = SafetyAnswer.objects.filter(status_row__safety_check_id=check_pk).exclude(client_key="")
    duplicates = keys.values("status_row", "client_key").annotate(n=Count("id")).filter(n__gt=1).count()
    return recorded, duplicates


def report(args, sent, lat, answers, seconds, base_lat, base_answers, base_seconds, recorded, duplicates) -> None:
    ok, errors_5xx = acknowledged(answers)
    residents_acknowledged = args.answers if ok >= args.answers else ok
    rate, base_rate = len(lat) / seconds, len(base_lat) / base_seconds
    first_rate = args.answers / seconds  # residents' answers, replays not counted
    print(f"\nCheck-in surge: {args.answers} residents (+{sent - args.answers} replays), {args.concurrency} clients, "
          f"{args.workers} ASGI workers, PostgreSQL + Redis + Celery")
    print(f"  baseline /livez      {base_rate:8.0f} req/s   p50 {pct(base_lat, 50):6.1f} ms   p99 {pct(base_lat, 99):6.1f} ms   ({len(base_lat)} requests)")
    print(f"  answerSafetyCheck    {rate:8.0f} req/s   p50 {pct(lat, 50):6.1f} ms   p99 {pct(lat, 99):6.1f} ms   ({seconds:.1f} s, replays included)")
    print(f"  residents' answers   {first_rate:8.0f} /s     (first answers only, replays not counted)")
    print(f"  ratio                {rate / base_rate:8.2f} of the plain view's throughput (requests); "
          f"{first_rate / base_rate:.2f} counting first answers only")
    print(f"  acknowledged         {ok} of {sent} requests ({errors_5xx} HTTP 5xx)")
    print(f"  recorded in the DB   {recorded} of {args.answers} residents; duplicates {duplicates}")
    good = recorded == args.answers and errors_5xx == 0 and duplicates == 0 and residents_acknowledged == args.answers
    print("  OK: every acknowledged answer recorded once" if good else "  NOT OK")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
