"""WebSocket fan-out: N subscribed clients on one area, one mode switch; how long until the
last client has the event, and how many got it (must be all).

Production footing: an ASGI server (uvicorn, several worker processes) on PostgreSQL and the
Redis channel layer; N real graphql-transport-ws clients (the `websockets` library), each a
different user, subscribed to `areaModeChanged` of one grid. The switch is made through the
HTTP API like a community admin would. Baseline in the same run: every client pings at
once and waits for its pong (the transport alone, no event, no GraphQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/ws_fanout.py --clients 2000 --workers 2

A scratch database (<name>_bench_ws) is created and dropped; REDIS_URL's database is used by
the channel layer under a prefix of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request
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
    stop,
)

SUBSCRIPTION = (ROOT / "mobile_api_docs/operations/community/OnAreaModeChanged.graphql").read_text()
SWITCH = (ROOT / "mobile_api_docs/operations/community/SwitchAreaMode.graphql").read_text()


def populate(clients: int) -> dict:
    """A small tree and `clients` users who may see the grid (grid workers of it), in bulk."""
    import django

    django.setup()
    from django.core.management import call_command
    from graphql_jwt.shortcuts import get_token
    from graphql_relay import to_global_id

    from community.models import Area, AreaKind, Role, RoleAssignment, User

    call_command("migrate", verbosity=0)
    city = Area.objects.add_root(create_kwargs=dict(name="压测市", code="b", kind=AreaKind.CITY))
    district = Area.objects.add_child(Area.objects.get(pk=city.pk), create_kwargs=dict(name="区", code="b-d", kind=AreaKind.DISTRICT))
    sub = Area.objects.add_child(Area.objects.get(pk=district.pk), create_kwargs=dict(name="街道", code="b-d-s", kind=AreaKind.SUBDISTRICT))
    community = Area.objects.add_child(Area.objects.get(pk=sub.pk), create_kwargs=dict(name="社区", code="b-d-s-c", kind=AreaKind.COMMUNITY))
    grid = Area.objects.add_child(Area.objects.get(pk=community.pk), create_kwargs=dict(name="网格", code="b-d-s-c-g", kind=AreaKind.GRID))
    User.objects.bulk_create([User(username=f"bench{i}", display_name=f"压测{i}") for i in range(clients)], batch_size=1000)
    users = list(User.objects.filter(username__startswith="bench").order_by("pk"))
    RoleAssignment.objects.bulk_create([RoleAssignment(user=u, area=grid, role=Role.GRID_WORKER) for u in users], batch_size=1000)
    admin = User.objects.create_user(username="bench-admin", password="x" * 12)
    RoleAssignment.objects.create(user=admin, area=Area.objects.get(pk=community.pk), role=Role.COMMUNITY_ADMIN)
    return {
        "tokens": [get_token(u) for u in users],
        "admin_token": get_token(admin),
        "grid_id": to_global_id("Area", grid.pk),
        "community_id": to_global_id("Area", community.pk),
        "community_pk": community.pk,
    }


class Client:
    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.ws = None
        self.event_at: float | None = None
        self.pong_at: float | None = None

    async def connect(self, grid_id: str) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, subprotocols=["graphql-transport-ws"], open_timeout=60, max_queue=None)
        await self.ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}))
        ack = json.loads(await self.ws.recv())
        assert ack["type"] == "connection_ack", ack
        await self.ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIPTION, "variables": {"areaId": grid_id}}}))

    async def listen(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message["type"] == "pong" and self.pong_at is None:
                self.pong_at = time.perf_counter()
            elif message["type"] == "next" and self.event_at is None:
                self.event_at = time.perf_counter()
            elif message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))


def group_size(redis_url: str, prefix: str, group: str) -> int:
    import redis

    return redis.Redis.from_url(redis_url).zcard(f"{prefix}:group:{group}")


def group_rss_kib(group: int) -> int:
    """Resident memory of every process in the server's process group (supervisor + workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:  # pgrp
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


async def run(args, data: dict, port: int, redis_url: str, prefix: str, server_group: int) -> dict:
    url = f"ws://127.0.0.1:{port}/graphql/"
    clients = [Client(url, token) for token in data["tokens"]]
    rss_before = group_rss_kib(server_group)
    started = time.perf_counter()
    gate = asyncio.Semaphore(100)

    async def connect(client: Client):
        async with gate:
            await client.connect(data["grid_id"])

    await asyncio.gather(*(connect(c) for c in clients))
    connect_seconds = time.perf_counter() - started
    listeners = [asyncio.create_task(c.listen()) for c in clients]
    # One membership per server process and group (schema.core.local_groups), not per socket:
    # wait for the processes' memberships, then a moment for the last subscriptions to register
    # (every client must get the event: "delivered" below checks it).
    group = f"area.{data['community_pk']}"
    deadline = time.monotonic() + 60
    while group_size(redis_url, prefix, group) < min(args.workers, len(clients)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {group_size(redis_url, prefix, group)} server processes subscribed")
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # the last subscriptions, and the servers settle before reading their memory
    rss_after = group_rss_kib(server_group)

    # Baseline: everyone pings at once; time until each pong.
    ping_sent = time.perf_counter()
    await asyncio.gather(*(c.ws.send(json.dumps({"type": "ping"})) for c in clients))
    await wait_all(clients, "pong_at", 30)
    pongs = [(c.pong_at - ping_sent) * 1000 for c in clients if c.pong_at]

    # The switch, through the HTTP API.
    body = json.dumps({"query": SWITCH, "variables": {"areaId": data["community_id"], "mode": "EMERGENCY", "reason": "压测", "key": "bench"}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql/", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {data['admin_token']}"})
    switch_sent = time.perf_counter()
    loop = asyncio.get_running_loop()
    response = await loop.run_in_executor(None, lambda: json.loads(urllib.request.urlopen(request, timeout=60).read()))
    switch_returned = time.perf_counter()
    assert response["data"]["switchAreaMode"]["errors"] == [], response
    await wait_all(clients, "event_at", args.timeout)
    events = [(c.event_at - switch_sent) * 1000 for c in clients if c.event_at]
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
    return {"connect_s": connect_seconds, "pongs": pongs, "events": events,
            "switch_ms": (switch_returned - switch_sent) * 1000, "clients": len(clients),
            "rss_kib": (rss_before, rss_after)}


async def wait_all(clients, attribute: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(getattr(c, attribute) is None for c in clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="ASGI server processes")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last event")
    args = parser.parse_args()
    database_url, redis_url = require_services()
    raise_open_files(args.clients * 3 + 1000)
    admin, scratch = scratch_database(database_url, "bench_ws")
    prefix = f"linli-bench-{os.getpid()}"
    env = {**os.environ, "DATABASE_URL": scratch, "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix,
           "DJANGO_SETTINGS_MODULE": "backend.settings", "LINLI_EMBEDDED_WORKER": "0", "LOG_LEVEL": "WARNING",
           "WS_CONNECTS_PER_ADDRESS_PER_MINUTE": str(args.clients * 10)}
    os.environ.update(env)
    port = free_port()
    server = None
    try:
        data = populate(args.clients)
        server = start_asgi_server(port, args.workers, env)
        result = asyncio.run(run(args, data, port, redis_url, prefix, server.pid))
    finally:
        stop(server)
        drop_database(admin, scratch)
    report(args, result)


def report(args, r: dict) -> None:
    got, pongs, events = len(r["events"]), r["pongs"], r["events"]
    print(f"\nWebSocket fan-out: {r['clients']} clients, {args.workers} ASGI workers, PostgreSQL + Redis channel layer")
    rate = r["clients"] / r["connect_s"]
    print(f"  connect + subscribe all        {r['connect_s']:.1f} s = {rate:.0f}/s ({rate / args.workers:.0f}/s per process; "
          f"connect, authenticate, subscribe; 100 at a time)")
    before, after = r["rss_kib"]
    print(f"  server memory (all processes)  {before / 1024:.0f} MiB idle -> {after / 1024:.0f} MiB with the sockets open = "
          f"{(after - before) / 1024 / r['clients'] * 1000:.1f} MiB per 1,000 idle subscribed sockets "
          f"(permessage-deflate {'on' if os.environ.get('WS_PER_MESSAGE_DEFLATE', '').lower() in ('1', 'true', 'yes', 'on') else 'off'})")
    print(f"  baseline ping->pong (all at once)   p50 {pct(pongs, 50):7.1f} ms   p99 {pct(pongs, 99):7.1f} ms   max {max(pongs):7.1f} ms")
    print(f"  switch mutation returned       {r['switch_ms']:.1f} ms")
    if events:
        print(f"  switch -> event on client      p50 {pct(events, 50):7.1f} ms   p99 {pct(events, 99):7.1f} ms   last {max(events):7.1f} ms")
        print(f"  ratio event/baseline           p50 {pct(events, 50) / pct(pongs, 50):.1f}x   p99 {pct(events, 99) / pct(pongs, 99):.1f}x")
    print(f"  delivered                      {got} / {r['clients']}" + ("" if got == r["clients"] else "   <-- NOT ALL"))
    print(f"  median of pongs {statistics.median(pongs):.1f} ms (sanity)")
    sys.exit(0 if got == r["clients"] else 1)


if __name__ == "__main__":
    main()
