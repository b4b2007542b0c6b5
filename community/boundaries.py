"""Areas' boundaries: reading them (GeoJSON, in any datum), checking them, storing them.

An area's boundary is a GeoJSON MultiPolygon in WGS-84 (Area.boundary). Grids should have
one: which grid a point lies in is decided by the boundaries (community.grids), the nearest
centre only where a grid has none. A community and the areas above it may have their own,
or be the union of their children's (community.area_index.AreaShapes.shape_of).

A boundary is accepted when it is (check_boundaries):
- a Polygon or MultiPolygon (a Feature holding one is fine) of at most
  AREA_BOUNDARY_MAX_VERTICES points, each a finite [longitude, latitude];
- valid: rings closed, no self-intersection, non-empty (shapely's is_valid, whose reason
  the error repeats), inside China's bounding box once in WGS-84;
- inside its nearest ancestor that has a boundary, and around every descendant that has
  one, both give or take AREA_BOUNDARY_TOLERANCE_M;
- overlapping no other area of the same kind by more than AREA_BOUNDARY_TOLERANCE_M (the
  error names it) — shared edges drawn a few metres apart are fine.

Input in GCJ-02 or BD-09 is converted vertex by vertex with community.geo, like every
coordinate. Writes lock the tree's root row, so two editors cannot each pass the overlap
check against the other's old shape, and drop this process's shape index after commit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from core.errors import field_error

from .area_index import AreaShapes, area_shapes, as_multipolygon, forget_area_shapes, metric
from .error_codes import CommunityErrorCode as Code
from .geo import Datum, from_wgs84, to_wgs84
from .models import Area

CHINA_LNG = (73.66, 135.05)  # the box community.geo's datum conversions use
CHINA_LAT = (3.86, 53.55)
COORDINATE_DIGITS = 7  # about 1 cm


def _tolerance_m() -> float:
    return float(settings.AREA_BOUNDARY_TOLERANCE_M)


def _bad(field: str, message: str, code: str = Code.INVALID_BOUNDARY) -> ValidationError:
    return field_error(field, message, code)


# --- reading ----------------------------------------------------------------------------------
def read_geojson(value: object, datum: str = Datum.WGS84, field: str = "geo_json") -> MultiPolygon:
    """A GeoJSON Polygon or MultiPolygon (or a Feature holding one; a dict or its JSON text)
    in `datum` -> a MultiPolygon in WGS-84, not yet checked (see check_boundaries)."""
    geometry = _geometry_dict(value, field)
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        polygons = coordinates
    else:
        raise _bad(field, "Give a GeoJSON Polygon or MultiPolygon (or a Feature holding one).")
    budget = [settings.AREA_BOUNDARY_MAX_VERTICES]
    converted = [_polygon(p, str(getattr(datum, "value", datum)), field, budget) for p in polygons]
    if not converted:
        raise _bad(field, "The boundary is empty.")
    return MultiPolygon(converted)


def _geometry_dict(value: object, field: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _bad(field, "Not JSON.")
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict):
        raise _bad(field, "Give a GeoJSON geometry object.")
    return value


def _polygon(rings: object, datum: str, field: str, budget: list[int]) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise _bad(field, "A polygon is a list of rings: the outline, then any holes.")
    shell, *holes = [_ring(r, datum, field, budget) for r in rings]
    return Polygon(shell, holes)


def _ring(ring: object, datum: str, field: str, budget: list[int]) -> list[tuple[float, float]]:
    if not isinstance(ring, list) or len(ring) < 4:
        raise _bad(field, "A ring has at least four positions (the first repeated last).")
    budget[0] -= len(ring)
    if budget[0] < 0:
        raise _bad(field, f"At most {settings.AREA_BOUNDARY_MAX_VERTICES} points; simplify the boundary.")
    points = [_position(p, datum, field) for p in ring]
    if points[0] != points[-1]:
        raise _bad(field, "A ring must end where it starts.")
    return points


def _position(position: object, datum: str, field: str) -> tuple[float, float]:
    """[longitude, latitude] (GeoJSON order) in `datum` -> (longitude, latitude) in WGS-84."""
    if not isinstance(position, list | tuple) or len(position) not in (2, 3) \
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in position):
        raise _bad(field, "A position is [longitude, latitude] as finite numbers.")
    if not (-180 <= position[0] <= 180 and -90 <= position[1] <= 90):
        raise _bad(field, "Longitude within ±180 and latitude within ±90 ([longitude, latitude] order).")
    lat, lng = to_wgs84(position[1], position[0], datum, field)
    return round(lng, COORDINATE_DIGITS), round(lat, COORDINATE_DIGITS)


# --- checking ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placed:
    """An area with the shape it would have once the batch is written."""

    area: Area
    geometry: BaseGeometry


def check_boundaries(batch: Mapping[Area, MultiPolygon | None], field: str = "geo_json") -> None:
    """Raise the first problem of writing `batch` (area -> new boundary, None: remove it),
    checked against each other and against every boundary already stored."""
    problems = boundary_problems(batch, field)
    if problems:
        raise problems[0][1]


def boundary_problems(batch: Mapping[Area, MultiPolygon | None],
                      field: str = "geo_json") -> list[tuple[Area, ValidationError]]:
    """Every area of `batch` whose new boundary is refused, with why (by path)."""
    placed = _after(batch, area_shapes(recheck=True))
    overlaps = _Overlaps(placed)
    problems: list[tuple[Area, ValidationError]] = []
    for area, geometry in sorted(batch.items(), key=lambda item: item[0].path):
        if geometry is None:
            continue
        try:
            check_shape(area, geometry, field)
            _check_nesting(area, geometry, placed, field)
            overlaps.check(area, field)
        except ValidationError as exc:
            problems.append((area, exc))
    return problems


def check_shape(area: Area, geometry: BaseGeometry, field: str = "geo_json") -> None:
    if geometry.is_empty:
        raise _bad(field, "The boundary is empty.")
    if not geometry.is_valid:
        raise _bad(field, f"The boundary is not a valid shape: {shapely.is_valid_reason(geometry)} "
                          "(a ring crosses itself or another).")
    if geometry.area <= 0:
        raise _bad(field, "The boundary is empty.")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < CHINA_LNG[0] or maxx > CHINA_LNG[1] or miny < CHINA_LAT[0] or maxy > CHINA_LAT[1]:
        raise _bad(field, "The boundary lies outside China (in WGS-84, [longitude, latitude] order).")


def _after(batch: Mapping[Area, MultiPolygon | None], shapes: AreaShapes) -> dict[int, Placed]:
    """Every stored boundary, with the batch's applied: pk -> Placed."""
    placed: dict[int, Placed] = {}
    stored = Area.objects.in_bulk(list(shapes.areas))
    for pk, shaped in shapes.areas.items():
        if pk in stored:
            placed[pk] = Placed(stored[pk], shaped.geometry)
    for area, geometry in batch.items():
        placed.pop(area.pk, None)
        if geometry is not None:
            placed[area.pk] = Placed(area, geometry)
    return placed


def _check_nesting(area: Area, geometry: BaseGeometry, placed: Mapping[int, Placed], field: str) -> None:
    tolerance = _tolerance_m()
    ancestors = sorted((p for p in placed.values() if area.path.startswith(p.area.path) and p.area.pk != area.pk),
                       key=lambda p: -len(p.area.path))
    if ancestors:
        parent = ancestors[0]
        if not _covers(parent.geometry, geometry, tolerance):
            raise _bad(field, f"The boundary reaches outside {parent.area.name} ({parent.area.code}), which holds this area.",
                       Code.BOUNDARY_OUTSIDE_PARENT)
    for below in sorted(placed.values(), key=lambda p: p.area.path):
        if below.area.path.startswith(area.path) and below.area.pk != area.pk \
                and not _covers(geometry, below.geometry, tolerance):
            raise _bad(field, f"The boundary leaves out part of {below.area.name} ({below.area.code}), which lies in this area.",
                       Code.BOUNDARY_EXCLUDES_CHILD)


def _covers(outer: BaseGeometry, inner: BaseGeometry, tolerance_m: float) -> bool:
    if outer.covers(inner):
        return True
    return bool(metric(outer, like=inner).buffer(tolerance_m).covers(metric(inner)))


class _Overlaps:
    """An STR-tree per kind of area over the shapes as they would be."""

    def __init__(self, placed: Mapping[int, Placed]) -> None:
        self.placed = placed
        self.by_kind: dict[str, list[Placed]] = {}
        for p in placed.values():
            self.by_kind.setdefault(p.area.kind, []).append(p)
        self.trees = {kind: STRtree([p.geometry for p in rows]) for kind, rows in self.by_kind.items()}

    def check(self, area: Area, field: str) -> None:
        tolerance = _tolerance_m()
        mine = self.placed[area.pk]
        inner = metric(mine.geometry).buffer(-tolerance)
        if inner.is_empty:
            return
        rows = self.by_kind[area.kind]
        candidates = sorted((rows[int(i)] for i in self.trees[area.kind].query(mine.geometry)), key=lambda p: p.area.path)
        for other in candidates:
            if other.area.pk != area.pk and inner.intersects(metric(other.geometry, like=mine.geometry)):
                raise _bad(field, f"The boundary overlaps {other.area.name} ({other.area.code}) by more than "
                                  f"{tolerance:g} m.", Code.BOUNDARY_OVERLAP)


# --- writing ----------------------------------------------------------------------------------
def set_area_boundary(area: Area, geo_json: object | None, *, datum: str = Datum.WGS84,
                      field: str = "geo_json") -> Area:
    """Check and store one area's boundary (None removes it)."""
    geometry = read_geojson(geo_json, datum, field) if geo_json is not None else None
    write_boundaries({area: geometry}, field=field)
    area.refresh_from_db()
    return area


def write_boundaries(batch: Mapping[Area, MultiPolygon | None], field: str = "geo_json") -> int:
    """Check `batch` as a whole and store it, all or nothing; returns the areas written."""
    with transaction.atomic():
        _lock_trees(batch)
        fresh = Area.objects.in_bulk([a.pk for a in batch])  # paths as they are now, under the lock
        batch = {fresh[a.pk]: geometry for a, geometry in batch.items() if a.pk in fresh}
        check_boundaries(batch, field)
        now = timezone.now()
        for area, geometry in batch.items():
            value = cast(dict[str, Any], mapping(geometry)) if geometry is not None else None
            Area.objects.filter(pk=area.pk).update(boundary=_plain(value), boundary_updated_at=now)
        forget_area_shapes()
        transaction.on_commit(forget_area_shapes)
    return len(batch)


def _lock_trees(areas: Iterable[Area]) -> None:
    roots = sorted({a.path[: Area.steplen] for a in areas})
    list(Area.objects.select_for_update().filter(path__in=roots).values_list("pk", flat=True))


def _plain(value: Any) -> Any:
    """shapely's mapping() holds tuples; JSON wants lists (and stable equality)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- for maps ----------------------------------------------------------------------------------
def shape_of(area: Area) -> BaseGeometry | None:
    return area_shapes().shape_of(area)


def boundary_geojson(area: Area, datum: str = Datum.WGS84) -> dict[str, Any] | None:
    """The area's shape (own, or its children's union) as a GeoJSON MultiPolygon, in WGS-84
    or converted for Chinese map SDKs (GCJ02, BD09); None when it has none."""
    geometry = shape_of(area)
    if geometry is None:
        return None
    multi = as_multipolygon(geometry)
    if datum != Datum.WGS84:
        multi = cast(MultiPolygon, shapely.transform(multi, lambda coords: _converted(coords, datum)))
    return cast(dict[str, Any], _plain(mapping(shapely.set_precision(multi, 10 ** -COORDINATE_DIGITS))))


def _converted(coords: Any, datum: str) -> Any:
    """(lng, lat) rows in WGS-84 -> the same in `datum`."""
    out = coords.copy()
    for i in range(len(coords)):
        lat, lng = from_wgs84(float(coords[i, 1]), float(coords[i, 0]), datum)
        out[i, 0], out[i, 1] = lng, lat
    return out


def center_of(area: Area) -> tuple[float, float] | None:
    """(lat, lng) WGS-84: the centre staff set, else a point inside the area's shape."""
    if area.center_lat is not None and area.center_lng is not None:
        return area.center_lat, area.center_lng
    geometry = shape_of(area)
    if geometry is None:
        return None
    inside = geometry.representative_point()
    return float(inside.y), float(inside.x)
