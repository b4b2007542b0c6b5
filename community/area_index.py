"""The areas' shapes in memory: which grid a point lies in, and the shape of any area.

Every area with a boundary (community.boundaries writes them) is loaded once per process
into shapely geometries, prepared for fast point tests, with an STR-tree over the grids, so
"which grid is this pin in" is a tree lookup and a prepared point-in-polygon test, not a
query (bench/area_index.py measures it).

The index is rebuilt when the boundaries change: each use compares a stamp of the table
(count, newest id and newest boundary change — one indexed aggregate) with the stamp the
index was built from, at most every AREA_SHAPES_RECHECK_SECONDS (0: every time). A write
in this process forgets the index at once; other processes see it within that interval.
A rolled-back change restores the old stamp, and so the old index.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

import shapely
from django.conf import settings
from django.db.models import Count, Max, TextField
from django.db.models.functions import Cast
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from .models import Area, AreaKind

# (areas, newest id, newest boundary change): changes when any boundary or the tree does.
Stamp = tuple[int, int | None, str | None]

METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LNG = 111_320.0  # at the equator; times cos(latitude)


@dataclass(frozen=True)
class ShapedArea:
    pk: int
    path: str
    kind: str
    code: str
    name: str
    geometry: BaseGeometry  # WGS-84, x = longitude, y = latitude; prepared
    bounds: tuple[float, float, float, float]  # (min lng, min lat, max lng, max lat)


@dataclass
class AreaShapes:
    """One snapshot of every boundary (see module doc)."""

    stamp: Stamp
    areas: dict[int, ShapedArea]
    grids: list[ShapedArea]
    tree: STRtree | None
    # (lat bucket, lng bucket) -> indexes of the grids whose bounding box touches that
    # BUCKET_DEGREES square: a dict lookup instead of a tree query for one point at a time.
    buckets: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    _unions: dict[str, BaseGeometry | None] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def load(cls, stamp: Stamp) -> AreaShapes:
        # The JSON as text, parsed by GEOS in one vectorised call: no Python dicts on the way.
        rows = list(Area.objects.filter(boundary__isnull=False).annotate(text=Cast("boundary", TextField()))
                    .values_list("pk", "path", "kind", "code", "name", "text"))
        geometries = shapely.from_geojson([row[5] for row in rows]) if rows else []
        shapely.prepare(geometries)
        areas: dict[int, ShapedArea] = {}
        for (pk, path, kind, code, name, _), geometry in zip(rows, geometries, strict=True):
            areas[pk] = ShapedArea(pk, path, kind, code, name, geometry, tuple(geometry.bounds))
        grids = sorted((a for a in areas.values() if a.kind == AreaKind.GRID), key=lambda a: a.path)
        tree = STRtree([g.geometry for g in grids]) if grids else None
        return cls(stamp=stamp, areas=areas, grids=grids, tree=tree, buckets=_buckets(grids))

    # --- points -----------------------------------------------------------------------------
    def grid_at(self, lat: float, lng: float, within: str = "") -> ShapedArea | None:
        """The grid whose boundary holds (lat, lng) (on a shared edge: the first by path),
        among grids under the path `within`; None if no boundary holds it."""
        for i in self.buckets.get(_bucket(lat, lng), ()):  # in path order
            grid = self.grids[i]
            minx, miny, maxx, maxy = grid.bounds
            if minx <= lng <= maxx and miny <= lat <= maxy and grid.path.startswith(within) \
                    and shapely.intersects_xy(grid.geometry, lng, lat):
                return grid
        return None

    def grids_at(self, lats: Any, lngs: Any) -> list[int | None]:
        """Many points at once (numpy arrays or lists): the grid's pk for each, or None."""
        found: list[int | None] = [None] * len(lats)
        if self.tree is None:
            return found
        points = shapely.points(lngs, lats)
        hits = self.tree.query(points, predicate="intersects")
        for point_i, grid_i in sorted(zip(hits[0].tolist(), hits[1].tolist(), strict=True)):
            if found[point_i] is None:
                found[point_i] = self.grids[grid_i].pk
        return found

    # --- shapes -----------------------------------------------------------------------------
    def own(self, area_pk: int) -> BaseGeometry | None:
        shaped = self.areas.get(area_pk)
        return shaped.geometry if shaped is not None else None

    def shape_of(self, area: Area) -> BaseGeometry | None:
        """The area's own boundary; else, for an area above grids, the union of its
        children's shapes when every child has one; else None (shape unknown)."""
        own = self.own(area.pk)
        if own is not None or area.kind == AreaKind.GRID:
            return own
        with self._lock:
            if area.path not in self._unions:
                self._unions[area.path] = self._union_below(area)
            return self._unions[area.path]

    def _union_below(self, area: Area) -> BaseGeometry | None:
        children = list(Area.objects.filter(path__startswith=area.path, depth=area.depth + 1))
        parts = [self.shape_of(child) for child in children]
        if not parts or any(p is None for p in parts):
            return None
        union = shapely.union_all([p for p in parts if p is not None])
        shapely.prepare(union)
        return cast(BaseGeometry, union)


BUCKET_DEGREES = 0.01  # about 1 km: a few grids per bucket


def _bucket(lat: float, lng: float) -> tuple[int, int]:
    return math.floor(lat / BUCKET_DEGREES), math.floor(lng / BUCKET_DEGREES)


def _buckets(grids: list[ShapedArea]) -> dict[tuple[int, int], list[int]]:
    buckets: dict[tuple[int, int], list[int]] = {}
    for i, grid in enumerate(grids):
        minx, miny, maxx, maxy = grid.bounds
        (south, west), (north, east) = _bucket(miny, minx), _bucket(maxy, maxx)
        for b in ((la, ln) for la in range(south, north + 1) for ln in range(west, east + 1)):
            buckets.setdefault(b, []).append(i)
    return buckets


# --- metres ---------------------------------------------------------------------------------
def metric(geometry: BaseGeometry, like: BaseGeometry | None = None) -> BaseGeometry:
    """`geometry` in metres on a plane tangent at the centre of `like` (default: itself):
    good to well under 1% over a city, which is what tolerances and areas need."""
    lng0, lat0 = _origin(like if like is not None else geometry)
    kx = METRES_PER_DEGREE_LNG * math.cos(math.radians(lat0))

    def to_metres(coords: Any) -> Any:
        out = coords.copy()
        out[:, 0] = (coords[:, 0] - lng0) * kx
        out[:, 1] = (coords[:, 1] - lat0) * METRES_PER_DEGREE_LAT
        return out

    return cast(BaseGeometry, shapely.transform(geometry, to_metres))


def _origin(geometry: BaseGeometry) -> tuple[float, float]:
    minx, miny, maxx, maxy = geometry.bounds
    return (minx + maxx) / 2, (miny + maxy) / 2


def distance_m(geometry: BaseGeometry, lat: float, lng: float) -> float:
    """Metres from (lat, lng) to the nearest part of `geometry` (0 inside)."""
    if shapely.intersects_xy(geometry, lng, lat):
        return 0.0
    point = Point(lng, lat)
    return float(metric(geometry, like=point).distance(metric(point)))


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type == "Polygon"]
    return MultiPolygon(polygons)


# --- the per-process snapshot ----------------------------------------------------------------
_current: AreaShapes | None = None
_checked_at = 0.0
_build_lock = threading.Lock()


def _stamp() -> Stamp:
    row = Area.objects.aggregate(n=Count("pk"), top=Max("pk"), changed=Max("boundary_updated_at"))
    changed = row["changed"]
    return (row["n"], row["top"], changed.isoformat() if changed is not None else None)


def area_shapes(*, recheck: bool = False) -> AreaShapes:
    """The snapshot for this process, rebuilt if the boundaries changed (see module doc).
    recheck=True always compares the stamp (a write that must see the latest shapes)."""
    global _current, _checked_at
    now = time.monotonic()
    every = settings.AREA_SHAPES_RECHECK_SECONDS
    current = _current
    if current is not None and not recheck and now - _checked_at < every:
        return current
    stamp = _stamp()
    if current is not None and current.stamp == stamp:
        _checked_at = now
        return current
    with _build_lock:
        if _current is None or _current.stamp != stamp:
            _current = AreaShapes.load(stamp)
        _checked_at = now
        return _current


def forget_area_shapes() -> None:
    """Drop this process's snapshot (after a boundary is written)."""
    global _current
    _current = None
