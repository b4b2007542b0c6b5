"""The grid worker's task board: 100 tasks with their offers, volunteers and area, through the
GraphQL API (Django's test client, in process: the cost of the API itself).

Reports the SQL queries per board (must not grow with the number of tasks: 10 vs 100) and the
latency p50/p99 of the 100-task board, against the same run's `{ me { id } }` (the cost of
authentication, parsing, validation and one trivial field) as the baseline.

    .venv/bin/python bench/task_board.py                      # SQLite (a throw-away file)
    DATABASE_URL=postgres://... .venv/bin/python bench/task_board.py --runs 300
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.footing import drop_database, pct, scratch_database  # noqa: E402

BOARD = (ROOT / "mobile_api_docs/operations/tasks/TaskBoard.graphql").read_text()
ME = "{ me { id } }"


def setup() -> tuple[str, str] | None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ["LINLI_EMBEDDED_WORKER"] = "0"
    scratch = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        scratch = scratch_database(os.environ["DATABASE_URL"], "bench_board")
        os.environ["DATABASE_URL"] = scratch[1]
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'board.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return scratch


def build(tasks: int, volunteers_per_task: int = 4):
    """A community with two grids, its admin, volunteers, and `tasks` tasks with offers and people."""
    from django.utils import timezone

    from community.models import Area, AreaKind, Role, RoleAssignment, User
    from volunteers.models import Offer, TaskAssignment, Volunteer
    from volunteers.services import TaskSpec, create_task

    node = Area.objects.add_root(create_kwargs=dict(name="市", code="tb", kind=AreaKind.CITY, center_lat=30.27, center_lng=120.15))
    for code, kind in (("tb-d", AreaKind.DISTRICT), ("tb-d-s", AreaKind.SUBDISTRICT), ("tb-d-s-c", AreaKind.COMMUNITY)):
        node = Area.objects.add_child(Area.objects.get(pk=node.pk), create_kwargs=dict(name=code, code=code, kind=kind, center_lat=30.27, center_lng=120.15))
    grids = [Area.objects.add_child(Area.objects.get(pk=node.pk), create_kwargs=dict(
        name=f"网格{g}", code=f"tb-d-s-c-{g}", kind=AreaKind.GRID, center_lat=30.27, center_lng=120.15 + g * 0.003)) for g in range(2)]
    admin = User.objects.create_user(username="board-admin", password="x" * 12, display_name="社区管理员")
    RoleAssignment.objects.create(user=admin, area=Area.objects.get(pk=node.pk), role=Role.COMMUNITY_ADMIN)
    people = []
    for i in range(volunteers_per_task * 3):
        user = User.objects.create_user(username=f"v{i}", password="x" * 12, display_name=f"志愿者{i}", phone=f"+86137{i:08d}")
        volunteer = Volunteer(user=user, area=grids[i % 2], status="APPROVED")
        volunteer.set_location(30.27, 120.15)
        volunteer.save()
        people.append(volunteer)
    for i in range(tasks):
        task = create_task(TaskSpec(title=f"任务{i}", headcount=2, priority=["ROUTINE", "URGENT", "LIFE_SAFETY"][i % 3]), area=grids[i % 2], dispatch=False)
        for j, volunteer in enumerate(people[(i % 3) * volunteers_per_task:][:volunteers_per_task]):
            offer = Offer.objects.create(task=task, user=volunteer.user, volunteer=volunteer, expires_at=timezone.now(),
                                         status="ACCEPTED" if j == 0 else "PENDING", rank=j + 1)
            if j == 0:
                TaskAssignment.objects.create(task=task, user=volunteer.user, volunteer=volunteer, offer=offer)
    return admin


def time_query(client, token: str, query: str, variables: dict, runs: int) -> tuple[list[float], dict]:
    body = json.dumps({"query": query, "variables": variables})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    latencies, last = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post("/graphql/", data=body, content_type="application/json", **headers)
        latencies.append((time.perf_counter() - started) * 1000)
        last = response.json()
        assert response.status_code == 200 and "errors" not in last, last
    return latencies, last


def count_queries(client, token: str, first: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = json.dumps({"query": BOARD, "variables": {"first": first}})
    with CaptureQueriesContext(connection) as ctx:
        client.post("/graphql/", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    scratch = setup()
    try:
        from django.test import Client
        from django.test.utils import setup_test_environment
        from graphql_jwt.shortcuts import get_token

        setup_test_environment()
        admin = build(100)
        client, token = Client(), get_token(admin)
        count_queries(client, token, 1)  # warm caches (content types, the token's user)
        queries_10, queries_100 = count_queries(client, token, 10), count_queries(client, token, 100)
        base, _ = time_query(client, token, ME, {}, args.runs)
        board, data = time_query(client, token, BOARD, {"first": 100}, args.runs)
        tasks = data["data"]["tasks"]
        offers = sum(len(e["node"]["offers"]) for e in tasks["edges"])
        people = sum(len(e["node"]["people"]) for e in tasks["edges"])
    finally:
        if scratch is not None:
            drop_database(*scratch)
    footing = "PostgreSQL" if scratch else "SQLite"
    print(f"\nTask board ({footing}): {len(tasks['edges'])} tasks, {offers} offers, {people} people, {args.runs} runs each")
    print(f"  SQL queries per board         10 tasks: {queries_10}   100 tasks: {queries_100}"
          + ("   (constant)" if queries_10 == queries_100 else "   <-- GROWS"))
    print(f"  baseline {{ me {{ id }} }}         p50 {pct(base, 50):6.1f} ms   p99 {pct(base, 99):6.1f} ms")
    print(f"  board of 100 tasks            p50 {pct(board, 50):6.1f} ms   p99 {pct(board, 99):6.1f} ms")
    print(f"  ratio board/baseline          p50 {pct(board, 50) / pct(base, 50):.1f}x")
    sys.exit(0 if queries_10 == queries_100 else 1)


if __name__ == "__main__":
    main()
