"""Point-in-polygon benchmark: "which grid is this point in" over a city of drawn grids.

Builds one city of --grids grids (square cells of 0.004°, about 445 m x 385 m, tiling a
rectangle around Hangzhou; each edge carries --vertices-per-edge points, as traced
boundaries do), writes their boundaries through community.boundaries.write_boundaries (the
checks an import runs: validity, nesting, overlaps — timed), then answers --points random
points in the city's box:

- index, one point at a time: community.area_index.AreaShapes.grid_at (STR-tree candidates,
  prepared polygon test), the step derive_grid takes before loading the row;
- index, all points at once: AreaShapes.grids_at (shapely's vectorised tree query);
- derive_grid end to end, on the first --derive-points: the stamp check (one aggregate
  query, AREA_SHAPES_RECHECK_SECONDS=0), the lookup and loading the Area row;
- baseline: the nearest-centre lookup derive_grid used before boundaries (a bounding-box
  query on centres and geodesic distances), on the same --derive-points.

Both index answers are checked against each other and against shapely's brute force
(`covers` on every polygon) on the first --check-points.

    .venv/bin/python bench/area_index.py                     # 2,000 grids, 100,000 points
    .venv/bin/python bench/area_index.py --grids 200 --points 20000

Runs on a throw-away SQLite file unless DATABASE_URL is set (then a scratch database: the
benchmark writes to it and deletes its areas afterwards).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CENTER = (30.2741, 120.1551)  # Hangzhou, WGS-84
CELL = 0.004


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grids", type=int, default=2000)
    parser.add_argument("--vertices-per-edge", type=int, default=10)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--derive-points", type=int, default=2000)
    parser.add_argument("--check-points", type=int, default=2000)
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


def cell_polygon(south: float, west: float, per_edge: int):
    from shapely.geometry import MultiPolygon, Polygon

    def edge(a, b):
        return [(a[0] + (b[0] - a[0]) * i / per_edge, a[1] + (b[1] - a[1]) * i / per_edge) for i in range(per_edge)]

    corners = [(west, south), (west + CELL, south), (west + CELL, south + CELL), (west, south + CELL)]
    ring = [p for i in range(4) for p in edge(corners[i], corners[(i + 1) % 4])]
    return MultiPolygon([Polygon([*ring, ring[0]])])


def build_city(args, tag: str):
    from community.models import Area, AreaKind

    columns = math.ceil(math.sqrt(args.grids))
    rows = math.ceil(args.grids / columns)
    south0, west0 = CENTER[0] - rows * CELL / 2, CENTER[1] - columns * CELL / 2
    city = Area.objects.add_root(create_kwargs=dict(name="基准市", code=tag, kind=AreaKind.CITY,
                                                    center_lat=CENTER[0], center_lng=CENTER[1]))
    community = Area.objects.add_child(Area.objects.get(pk=city.pk), create_kwargs=dict(
        name="基准社区", code=f"{tag}-c", kind=AreaKind.COMMUNITY, center_lat=CENTER[0], center_lng=CENTER[1]))
    community = Area.objects.get(pk=community.pk)
    cells = {}
    for i in range(args.grids):
        r, c = divmod(i, columns)
        south, west = south0 + r * CELL, west0 + c * CELL
        # Zero-padded codes keep the children in order: each is added last, nothing shifts.
        grid = Area.objects.add_child(community, create_kwargs=dict(
            name=f"网格{i}", code=f"{tag}-c-{i:06d}", kind=AreaKind.GRID, center_lat=south + CELL / 2,
            center_lng=west + CELL / 2))
        community = Area.objects.get(pk=community.pk)
        cells[grid] = cell_polygon(south, west, args.vertices_per_edge)
    box = (south0, west0, south0 + rows * CELL, west0 + columns * CELL)
    return city, cells, box


def main() -> None:
    args = parse_args()
    vendor = setup_django()
    from django.conf import settings

    from community import grids as grids_module
    from community.area_index import area_shapes
    from community.boundaries import write_boundaries
    from community.models import Area

    settings.AREA_SHAPES_RECHECK_SECONDS = 0.0
    rng = random.Random(args.seed)
    tag = f"bench{rng.randrange(10**6)}"
    started = time.perf_counter()
    city, cells, (south, west, north, east) = build_city(args, tag)
    tree_s = time.perf_counter() - started
    try:
        started = time.perf_counter()
        write_boundaries(cells)
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        shapes = area_shapes(recheck=True)
        build_s = time.perf_counter() - started
        # A margin around the city: some points fall outside every grid.
        lats = [rng.uniform(south - 0.002, north + 0.002) for _ in range(args.points)]
        lngs = [rng.uniform(west - 0.002, east + 0.002) for _ in range(args.points)]

        started = time.perf_counter()
        one = [shapes.grid_at(lat, lng) for lat, lng in zip(lats, lngs, strict=True)]
        one_s = time.perf_counter() - started
        started = time.perf_counter()
        many = shapes.grids_at(lats, lngs)
        many_s = time.perf_counter() - started
        agree = sum((g.pk if g else None) == m for g, m in zip(one, many, strict=True))

        by_pk = {a.pk: geometry for a, geometry in cells.items()}
        brute_ok = 0
        from shapely.geometry import Point

        for lat, lng, found in list(zip(lats, lngs, many, strict=True))[: args.check_points]:
            point = Point(lng, lat)
            holders = sorted(pk for pk, geometry in by_pk.items() if geometry.covers(point))
            brute_ok += (found in holders) if holders else found is None

        n = min(args.derive_points, args.points)
        started = time.perf_counter()
        for lat, lng in zip(lats[:n], lngs[:n], strict=True):
            grids_module.derive_grid(lat, lng)
        derive_s = time.perf_counter() - started
        Area.objects.filter(path__startswith=city.path).update(boundary=None)
        started = time.perf_counter()
        for lat, lng in zip(lats[:n], lngs[:n], strict=True):
            grids_module.derive_grid(lat, lng)  # no boundaries now: the nearest centre
        centre_s = time.perf_counter() - started
    finally:
        Area.objects.filter(path__startswith=city.path).delete()

    print(f"footing {vendor}; {args.grids} grids of {4 * args.vertices_per_edge} points; {args.points:,} points")
    print(f"area tree: {tree_s:.1f} s; write_boundaries (checks and all): {write_s:.2f} s; index build: {build_s * 1000:.0f} ms")
    print(f"index, one at a time: {args.points / one_s:,.0f} points/s ({one_s / args.points * 1e6:.1f} µs each)")
    print(f"index, all at once:   {args.points / many_s:,.0f} points/s ({many_s / args.points * 1e6:.2f} µs each); "
          f"agree {agree:,}/{args.points:,}")
    print(f"brute-force check:    {brute_ok}/{min(args.check_points, args.points)} equal")
    print(f"derive_grid (stamp query + lookup + row): {n / derive_s:,.0f} points/s; "
          f"nearest centre (before): {n / centre_s:,.0f} points/s")


if __name__ == "__main__":
    main()
