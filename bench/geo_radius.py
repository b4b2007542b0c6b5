"""Radius search benchmark: "the nearest K within R metres" over N located rows.

Indexed: community.geo.nearest (the H3 cells of a disk around the point, read through the
indexed h3_cell column, then exact geopy geodesic distances on those candidates only).
Baseline, in the same run on the same data: a brute-force scan that reads every row and
measures every distance with geopy's geodesic (what a naive implementation does). The brute force is run
on the first --brute-queries of the same random points (at ~10 s each at 100,000 rows, all
1,000 would take hours); both answers are compared on those points (they must be equal).

Rows are community.Resident (Located: lat, lng, indexed h3_cell), spread uniformly over a
--span-km square around Hangzhou: the same table shape as volunteers.Volunteer.

    .venv/bin/python bench/geo_radius.py                          # 100,000 rows, 1,000 queries
    .venv/bin/python bench/geo_radius.py --rows 10000 --queries 200 --brute-queries 20

Runs on a throw-away SQLite file unless DATABASE_URL is set (then a scratch database: the
benchmark writes to it and deletes its rows afterwards).
"""

from __future__ import annotations

import argparse
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


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--brute-queries", type=int, default=10, help="how many of the queries also run brute force")
    parser.add_argument("--radius", type=float, default=3000.0, help="metres")
    parser.add_argument("--k", type=int, default=20, help="nearest K")
    parser.add_argument("--span-km", type=float, default=40.0, help="side of the square the rows are spread over")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("LINLI_EMBEDDED_WORKER", "0")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def random_point(rng: random.Random, span_km: float) -> tuple[float, float]:
    import math

    half_lat = span_km / 2 / 111.0
    half_lng = span_km / 2 / (111.0 * math.cos(math.radians(CENTER[0])))
    return CENTER[0] + rng.uniform(-half_lat, half_lat), CENTER[1] + rng.uniform(-half_lng, half_lng)


def load_rows(args, rng: random.Random):
    from community.models import Area, AreaKind, Resident

    grid = Area.objects.add_root(create_kwargs=dict(
        name="bench grid", code=f"bench-{rng.randrange(10**9)}", kind=AreaKind.GRID, center_lat=CENTER[0], center_lng=CENTER[1],
    ))
    batch: list[Resident] = []
    started = time.perf_counter()
    for i in range(args.rows):
        row = Resident(display_name=f"bench {i}", grid=grid)
        row.set_location(*random_point(rng, args.span_km))
        batch.append(row)
        if len(batch) == 5000:
            Resident.objects.bulk_create(batch)
            batch.clear()
    Resident.objects.bulk_create(batch)
    return grid, time.perf_counter() - started


def brute_force(rows, lat: float, lng: float, radius: float, k: int) -> list:
    from community.geo import distance_m

    found = []
    for row in rows.iterator(chunk_size=5000):
        d = distance_m((lat, lng), (row.lat, row.lng))
        if d <= radius:
            found.append((row, d))
    found.sort(key=lambda pair: pair[1])
    return found[:k]


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - started) * 1000


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


def main() -> None:
    args = parse_args()
    vendor = setup_django()
    from community.geo import H3_RESOLUTION, cells_within, nearest
    from community.models import Resident

    rng = random.Random(args.seed)
    grid, load_s = load_rows(args, rng)
    rows = Resident.objects.filter(grid=grid)
    points = [random_point(rng, args.span_km) for _ in range(args.queries)]
    try:
        nearest(rows, *points[0], args.radius, limit=args.k)  # warm caches and the connection
        indexed, indexed_ms = [], []
        for lat, lng in points:
            found, ms = timed(lambda lat=lat, lng=lng: nearest(rows, lat, lng, args.radius, limit=args.k))
            indexed.append([(r.pk, round(d, 3)) for r, d in found])
            indexed_ms.append(ms)
        brute_ms, mismatches = [], 0
        for i, (lat, lng) in enumerate(points[: args.brute_queries]):
            found, ms = timed(lambda lat=lat, lng=lng: brute_force(rows, lat, lng, args.radius, args.k))
            brute_ms.append(ms)
            mismatches += [(r.pk, round(d, 3)) for r, d in found] != indexed[i]
        report(args, vendor, load_s, indexed, indexed_ms, brute_ms, mismatches, len(cells_within(*points[0], args.radius)), H3_RESOLUTION)
    finally:
        rows.delete()
        grid.delete()


def report(args, vendor, load_s, indexed, indexed_ms, brute_ms, mismatches, cells, resolution) -> None:
    found = [len(r) for r in indexed]
    print(f"geo_radius: {args.rows:,} rows (community.Resident) on {vendor}, spread over {args.span_km:g} km square; "
          f"loaded in {load_s:.1f} s")
    print(f"queries: {args.queries:,} random points, nearest {args.k} within {args.radius:g} m; "
          f"H3 res {resolution}, {cells} cells per disk; median {statistics.median(found):g} found per query")
    print(f"indexed (h3 cells + geodesic): median {statistics.median(indexed_ms):8.2f} ms   p99 {p99(indexed_ms):8.2f} ms")
    if brute_ms:
        print(f"brute force ({len(brute_ms)} queries):  median {statistics.median(brute_ms):8.2f} ms   p99 {p99(brute_ms):8.2f} ms")
        print(f"ratio brute/indexed: median {statistics.median(brute_ms) / statistics.median(indexed_ms):.0f}x   "
              f"p99 {p99(brute_ms) / p99(indexed_ms):.0f}x")
        print(f"answers identical on the {len(brute_ms)} compared queries: {'yes' if mismatches == 0 else f'NO ({mismatches} differ)'}")


if __name__ == "__main__":
    main()
