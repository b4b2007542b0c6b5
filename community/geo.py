"""Places: datums, H3 cells and radius search (DESIGN.md principle 6).

- Inside Linli every coordinate is WGS-84. Apps in China often report GCJ-02 (AMap, Tencent,
  Apple/Google maps in China) or BD-09 (Baidu); input names its datum and is converted here,
  at the boundary. GCJ-02 -> WGS-84 is inverted iteratively to well under a metre.
- Every located row carries its H3 cell at H3_RESOLUTION = 8 (hexagons with ~0.46 km edges,
  ~0.74 km² — a few blocks, the scale of a grid (网格)), indexed. "Who is within R of here"
  reads only the cells of a disk around the point (a few dozen rows of cells for a few km),
  then computes exact geodesic distances with geopy and sorts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

import h3
from django.core.exceptions import ValidationError
from django.db import models
from geopy.distance import geodesic

H3_RESOLUTION = 8
MAX_RADIUS_M = 50_000


class Datum(StrEnum):
    WGS84 = "WGS84"
    GCJ02 = "GCJ02"
    BD09 = "BD09"


class GeoErrorCode(StrEnum):
    INVALID_LOCATION = "invalid_location"


def _field_error(field: str, message: str, code: str) -> ValidationError:
    # The code goes on the inner error: Django drops `code=` given with a dict of messages.
    return ValidationError({field: ValidationError(message, code=code)})


# --- datum conversion ---------------------------------------------------------------------
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def _outside_china(lat: float, lng: float) -> bool:
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if _outside_china(lat, lng):
        return lat, lng
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Invert wgs84_to_gcj02 by fixed-point iteration (converges to < 1e-7 degrees)."""
    if _outside_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        if abs(dlat) < 1e-9 and abs(dlng) < 1e-9:
            break
        wlat, wlng = wlat - dlat, wlng - dlng
    return wlat, wlng


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def from_wgs84(lat: float, lng: float, datum: str = Datum.WGS84) -> tuple[float, float]:
    """(lat, lng) WGS-84 -> the datum a map SDK draws in (for output; input uses to_wgs84)."""
    if datum == Datum.GCJ02:
        return wgs84_to_gcj02(lat, lng)
    if datum == Datum.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))
    return lat, lng


# A coordinate as a client sent it (checked by validate_coordinates).
RawCoordinate = float | str | None


def validate_coordinates(lat: RawCoordinate, lng: RawCoordinate, field: str = "location") -> tuple[float, float]:
    not_numbers = "Latitude and longitude must be numbers."
    if lat is None or lng is None:
        raise _field_error(field, not_numbers, GeoErrorCode.INVALID_LOCATION)
    try:
        lat_f, lng_f = float(lat), float(lng)
    except (TypeError, ValueError):
        raise _field_error(field, not_numbers, GeoErrorCode.INVALID_LOCATION)
    if not (math.isfinite(lat_f) and math.isfinite(lng_f)):
        raise _field_error(field, "Latitude and longitude must be finite numbers.", GeoErrorCode.INVALID_LOCATION)
    if not (-90.0 <= lat_f <= 90.0) or not (-180.0 <= lng_f <= 180.0):
        raise _field_error(field, "Latitude must be within ±90 and longitude within ±180.", GeoErrorCode.INVALID_LOCATION)
    return lat_f, lng_f


def to_wgs84(lat: RawCoordinate, lng: RawCoordinate, datum: str = Datum.WGS84, field: str = "location") -> tuple[float, float]:
    """Validated WGS-84 (lat, lng) from input in the given datum; ValidationError otherwise."""
    lat_f, lng_f = validate_coordinates(lat, lng, field)
    if datum == Datum.WGS84:
        return lat_f, lng_f
    if datum == Datum.GCJ02:
        return gcj02_to_wgs84(lat_f, lng_f)
    if datum == Datum.BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(lat_f, lng_f))
    raise _field_error(field, f"Unknown datum {datum!r}; use WGS84, GCJ02 or BD09.", GeoErrorCode.INVALID_LOCATION)


# --- cells and distances ------------------------------------------------------------------
def cell_of(lat: float, lng: float) -> str:
    cell: str = h3.latlng_to_cell(lat, lng, H3_RESOLUTION)  # h3 ships no type information
    return cell


def cells_within(lat: float, lng: float, radius_m: float) -> list[str]:
    """Every cell that may hold a point within radius_m of (lat, lng).

    A point p within d of the query q lies in a cell whose centre is at most R from p (R: the
    largest centre-to-vertex distance of the local cells), and q is at most R from its own
    cell's centre, so that centre is at most d + 2R from q's cell centre. Centres of ring k
    are at least k * (sqrt(3)/2) * s from it, s being the smallest centre-to-neighbour
    spacing. H3 cells are not regular (near Hangzhou at resolution 8 the spacing is 760-862 m
    while the global average edge would suggest 920 m), so R and s are measured around the
    point, with a 10% margin for distortion across the disk.
    """
    origin = cell_of(lat, lng)
    reach, spacing = _local_geometry(origin)
    k = max(1, math.ceil((radius_m + 2 * reach) / (0.9 * spacing * math.sqrt(3) / 2)))
    return list(h3.grid_disk(origin, k))


@lru_cache(maxsize=4096)
def _local_geometry(cell: str) -> tuple[float, float]:
    """(largest centre-to-vertex distance x 1.1, smallest centre-to-neighbour distance), metres."""
    near = list(h3.grid_ring(cell, 1))
    reach = max(_haversine_m(h3.cell_to_latlng(c), v) for c in (cell, *near) for v in h3.cell_to_boundary(c))
    centre = h3.cell_to_latlng(cell)
    spacing = min(_haversine_m(centre, h3.cell_to_latlng(n)) for n in near)
    return 1.1 * reach, spacing


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    metres: float = geodesic(a, b).meters  # geopy ships no type information
    return metres


class Located(models.Model):
    """Abstract: a WGS-84 point with its indexed H3 cell. Call set_location() to change it."""

    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    h3_cell = models.CharField(max_length=16, blank=True, default="", db_index=True)

    class Meta:
        abstract = True

    def set_location(self, lat: float | None, lng: float | None) -> None:
        if lat is None or lng is None:
            self.lat = self.lng = None
            self.h3_cell = ""
            return
        self.lat, self.lng = validate_coordinates(lat, lng)
        self.h3_cell = cell_of(self.lat, self.lng)

    @property
    def point(self) -> tuple[float, float] | None:
        return None if self.lat is None or self.lng is None else (self.lat, self.lng)


T = TypeVar("T", bound=Located)
K = TypeVar("K")


def nearest(
    queryset: models.QuerySet[T],
    lat: float,
    lng: float,
    radius_m: float,
    limit: int | None = None,
    cell_field: str = "h3_cell",
) -> list[tuple[T, float]]:
    """Rows of `queryset` within radius_m of (lat, lng), nearest first, as (row, metres).

    Reads only rows in the disk's cells (indexed) and inside the disk's bounding box, as bare
    (pk, lat, lng) tuples; ranks them (see _rank: exact geopy distances, computed only where
    they can matter); then loads the winning rows through the same queryset.
    """
    if radius_m <= 0 or radius_m > MAX_RADIUS_M:
        raise _field_error("radius", f"Radius must be between 1 and {MAX_RADIUS_M} metres.", GeoErrorCode.INVALID_LOCATION)
    candidates = queryset.filter(**{f"{cell_field}__in": cells_within(lat, lng, radius_m)})
    if cell_field != "h3_cell":  # another point pair (e.g. a temporary location): rows as they are
        return within(candidates, lat, lng, radius_m, limit)
    candidates = candidates.filter(**_bounding_box(lat, lng, radius_m))
    ranked = _rank(candidates.values_list("pk", "lat", "lng"), lat, lng, radius_m, limit)
    rows = candidates.in_bulk([pk for pk, _ in ranked])
    return [(rows[pk], d) for pk, d in ranked if pk in rows]


def within(rows: Iterable[T], lat: float, lng: float, radius_m: float, limit: int | None = None) -> list[tuple[T, float]]:
    """The rows (any objects with lat/lng) within radius_m, nearest first, as (row, metres)."""
    by_id: dict[int, T] = {}
    points: list[tuple[int, float | None, float | None]] = []
    for row in rows:
        by_id[id(row)] = row
        points.append((id(row), row.lat, row.lng))
    return [(by_id[key], d) for key, d in _rank(points, lat, lng, radius_m, limit)]


# Haversine (a sphere) differs from the geodesic on the WGS-84 ellipsoid by under 0.6%.
_SPHERE_SLACK = 0.01


def _rank(points: Iterable[tuple[K, float | None, float | None]], lat: float, lng: float, radius_m: float,
          limit: int | None) -> list[tuple[K, float]]:
    """[(key, geodesic metres)] of the (key, lat, lng) points within radius_m, nearest first.

    The cheap spherical distance bounds the geodesic one within 1%, so only points that may
    be within the radius are measured exactly, in order of spherical distance, stopping once
    `limit` points are found that no later point can beat. Same answer as measuring all.
    """
    origin = (lat, lng)
    reach = radius_m * (1 + _SPHERE_SLACK) + 1
    rough = []
    for key, plat, plng in points:
        if plat is None or plng is None:
            continue
        h = _haversine_m(origin, (plat, plng))
        if h <= reach:
            rough.append((h, key, plat, plng))
    rough.sort(key=lambda item: item[0])
    found: list[tuple[K, float]] = []
    kth = math.inf
    for h, key, plat, plng in rough:
        if h * (1 - _SPHERE_SLACK) - 1 > kth:
            break
        d = distance_m(origin, (plat, plng))
        if d <= radius_m:
            found.append((key, d))
            if limit is not None and len(found) >= limit:
                kth = sorted(dist for _, dist in found)[limit - 1]
    found.sort(key=lambda pair: pair[1])
    return found[:limit] if limit is not None else found


def _bounding_box(lat: float, lng: float, radius_m: float) -> dict[str, tuple[float, float]]:
    """lat/lng range lookups that contain the disk (with margin); none where they would wrap."""
    dlat = radius_m * 1.01 / 110_500 + 1e-6
    box = {"lat__range": (lat - dlat, lat + dlat)}
    far_lat = min(90.0, abs(lat) + dlat)
    if far_lat < 89.0:
        dlng = radius_m * 1.01 / (111_000 * math.cos(math.radians(far_lat))) + 1e-6
        if -180.0 < lng - dlng and lng + dlng < 180.0:
            box["lng__range"] = (lng - dlng, lng + dlng)
    return box
