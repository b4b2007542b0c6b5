"""Which areas a warning covers: by geocode, polygon or circle.

    areas_covered(cap_areas) -> [Area]   # the highest areas covered (a subdistrict, not also its communities)

- geocode: a <geocode> whose valueName is one of WARNING_GEOCODE_NAMES (LINLI_AREA by
  default, the name Linli's own CAP export uses) and whose value is an area's code;
- polygon and circle: areas of the kinds in WARNING_MATCH_AREA_KINDS whose boundary
  intersects the shape when the area has a boundary, else whose centre lies inside it.

Boundaries plug in through `area_boundary(area)`: an area's `boundary` attribute when the
area model has one (GeoJSON Polygon/MultiPolygon as a dict, or any object with
__geo_interface__, e.g. a shapely geometry), else None. Geometry is computed on a local
flat projection around the shape (metres), exact enough at the scale of a city.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings

from community.geo import distance_m
from community.models import Area

from .cap_in import CapArea, LatLng

Ring = Sequence[LatLng]
XY = tuple[float, float]


# --- boundaries -------------------------------------------------------------------------------
def area_boundary(area: Area) -> list[list[LatLng]] | None:
    """The area's outer rings as (lat, lng) lists, or None when it has no boundary."""
    value: Any = getattr(area, "boundary", None)  # a field another change adds to Area
    if value is None:
        return None
    shape = getattr(value, "__geo_interface__", value)
    if isinstance(shape, str):
        return None
    if not isinstance(shape, dict):
        return None
    kind, coordinates = shape.get("type"), shape.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else None
    if not polygons:
        return None
    # GeoJSON is (lng, lat); the outer ring of each polygon is enough to test intersection.
    return [[(float(lat), float(lng)) for lng, lat, *_ in polygon[0]] for polygon in polygons if polygon]


# --- flat geometry around a reference point ----------------------------------------------------
class Plane:
    """An equirectangular projection centred on `origin`: metres east and north."""

    def __init__(self, origin: LatLng):
        self.lat0, self.lng0 = origin
        self.kx = 111_320.0 * math.cos(math.radians(self.lat0))
        self.ky = 110_574.0

    def xy(self, point: LatLng) -> XY:
        return ((point[1] - self.lng0) * self.kx, (point[0] - self.lat0) * self.ky)

    def ring(self, ring: Ring) -> list[XY]:
        return [self.xy(p) for p in ring]


def point_in_ring(p: XY, ring: Sequence[XY]) -> bool:
    """Ray casting (even-odd); a closed or open ring."""
    x, y = p
    inside = False
    n = len(ring)
    for i in range(n):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _segment_distance(p: XY, a: XY, b: XY) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _edges(ring: Sequence[XY]) -> Iterable[tuple[XY, XY]]:
    return ((ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring)))


def _cross(o: XY, a: XY, b: XY) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(a: XY, b: XY, c: XY, d: XY) -> bool:
    d1, d2, d3, d4 = _cross(c, d, a), _cross(c, d, b), _cross(a, b, c), _cross(a, b, d)
    return ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0))


def rings_intersect(first: Sequence[XY], second: Sequence[XY]) -> bool:
    if any(point_in_ring(p, second) for p in first) or any(point_in_ring(p, first) for p in second):
        return True
    return any(_segments_cross(a, b, c, d) for a, b in _edges(first) for c, d in _edges(second))


def ring_near_point(ring: Sequence[XY], p: XY, radius: float) -> bool:
    """Does the polygon come within `radius` of p (inside counts)?"""
    return point_in_ring(p, ring) or any(_segment_distance(p, a, b) <= radius for a, b in _edges(ring))


# --- one area against one CAP area ---------------------------------------------------------------
def covers(shape: CapArea, area: Area) -> bool:
    boundary = area_boundary(area)
    centre = (area.center_lat, area.center_lng) if area.center_lat is not None and area.center_lng is not None else None
    if boundary is None and centre is None:
        return False
    for ring in shape.polygons:
        plane = Plane(ring[0])
        flat = plane.ring(ring)
        if boundary is not None and any(rings_intersect(flat, plane.ring(b)) for b in boundary):
            return True
        if boundary is None and centre is not None and point_in_ring(plane.xy(centre), flat):
            return True
    for lat, lng, radius_km in shape.circles:
        if boundary is not None:
            plane = Plane((lat, lng))
            if any(ring_near_point(plane.ring(b), (0.0, 0.0), radius_km * 1000) for b in boundary):
                return True
        elif centre is not None and distance_m((lat, lng), centre) <= radius_km * 1000:
            return True
    return False


def areas_covered(shapes: Sequence[CapArea]) -> list[Area]:
    """Every area a geocode names or a shape covers, keeping only the highest of a branch."""
    names = set(settings.WARNING_GEOCODE_NAMES)
    codes = {value for shape in shapes for name, value in shape.geocodes if name in names and value}
    found = {area.pk: area for area in Area.objects.filter(code__in=codes)}
    if any(shape.polygons or shape.circles for shape in shapes):
        for area in Area.objects.filter(kind__in=settings.WARNING_MATCH_AREA_KINDS).exclude(pk__in=found):
            if any(covers(shape, area) for shape in shapes):
                found[area.pk] = area
    paths = [a.path for a in found.values()]
    highest = [a for a in found.values() if not any(a.path != p and a.path.startswith(p) for p in paths)]
    return sorted(highest, key=lambda a: a.path)
