"""Which grid (网格) a place belongs to, and whether a place lies in an area.

A point belongs to the grid whose boundary holds it (community.area_index: a prepared
polygon test, no query). Only grids without a boundary fall back to the nearest centre,
within GRID_MAX_DISTANCE_M (farther away the point is outside every community we serve).
Every place that turns a point into a grid comes here: residents, hazard points, reports,
geocoding, tasks, and the maps' areaAt.
"""

from __future__ import annotations

import math

from django.conf import settings

from core.errors import field_error

from .area_index import area_shapes
from .area_index import distance_m as distance_to_shape_m
from .error_codes import CommunityErrorCode
from .geo import distance_m
from .models import Area, AreaKind


def derive_grid(lat: float, lng: float, within: Area | None = None) -> Area | None:
    """The grid of (lat, lng), searched in `within`'s subtree (or everywhere); None if no
    boundary holds it and no grid without a boundary has its centre close enough."""
    return locate(lat, lng, within)[0]


def locate(lat: float, lng: float, within: Area | None = None) -> tuple[Area | None, bool]:
    """(grid, found by its boundary): derive_grid, saying whether a boundary decided."""
    shaped = area_shapes().grid_at(lat, lng, within.path if within is not None else "")
    if shaped is not None:
        found = Area.objects.filter(pk=shaped.pk).first()
        if found is not None:
            return found, True
    return _nearest_unshaped_grid(lat, lng, within), False


def _nearest_unshaped_grid(lat: float, lng: float, within: Area | None) -> Area | None:
    reach = settings.GRID_MAX_DISTANCE_M
    dlat = reach / 111_000
    dlng = reach / (111_000 * max(0.05, math.cos(math.radians(lat))))
    grids = Area.objects.filter(
        kind=AreaKind.GRID,
        boundary__isnull=True,
        center_lat__range=(lat - dlat, lat + dlat),
        center_lng__range=(lng - dlng, lng + dlng),
    )
    if within is not None:
        grids = grids.filter(path__startswith=within.path)
    best: tuple[float, Area] | None = None
    for grid in grids:
        if grid.center_lat is None or grid.center_lng is None:
            continue  # never: the range lookups above need a centre
        d = distance_m((lat, lng), (grid.center_lat, grid.center_lng))
        if d <= reach and (best is None or d < best[0]):
            best = (d, grid)
    return best[1] if best else None


def require_grid_for(lat: float, lng: float, within: Area | None = None, field: str = "location") -> Area:
    grid = derive_grid(lat, lng, within)
    if grid is None:
        raise field_error(field, "This place is not within any grid we serve; choose the grid by hand.", CommunityErrorCode.NO_GRID_FOR_LOCATION)
    return grid


def require_grid_kind(area: Area, field: str = "grid_id") -> Area:
    if area.kind != AreaKind.GRID:
        raise field_error(field, "Choose a grid (网格), not a larger area.", CommunityErrorCode.NOT_A_GRID)
    return area


def lies_in(area: Area, lat: float, lng: float) -> bool:
    """Is (lat, lng) in `area`? By its shape (its own boundary, or its grids' union) give or
    take AREA_BOUNDARY_TOLERANCE_M; where it has none, by the grid the point derives to."""
    shape = area_shapes().shape_of(area)
    if shape is not None:
        return distance_to_shape_m(shape, lat, lng) <= float(settings.AREA_BOUNDARY_TOLERANCE_M)
    grid = derive_grid(lat, lng)
    return grid is not None and area.contains(grid)


def outside_shape(area: Area, lat: float, lng: float) -> bool:
    """Does (lat, lng) lie outside `area`'s shape (beyond the tolerance)? False when the area
    has no shape: then a grid staff chose is better knowledge than the nearest centre."""
    shape = area_shapes().shape_of(area)
    tolerance = float(settings.AREA_BOUNDARY_TOLERANCE_M)
    return shape is not None and distance_to_shape_m(shape, lat, lng) > tolerance


def require_in_area(area: Area, point: tuple[float, float], field: str = "location",
                    code: str = CommunityErrorCode.LOCATION_OUTSIDE_AREA) -> tuple[float, float]:
    """`point` if it lies in `area` (see lies_in); else a typed LOCATION_OUTSIDE_AREA."""
    if not lies_in(area, *point):
        raise field_error(field, f"This place lies outside {area.name}; choose a place inside it, or the area it is in.", code)
    return point


def check_place_in_grid(grid: Area, point: tuple[float, float] | None, field: str = "location") -> Area:
    """A place given with an explicit grid (a resident's home, a hazard point) must lie in
    that grid's shape; a grid without one takes staff's word for it."""
    require_grid_kind(grid)
    if point is not None and outside_shape(grid, *point):
        raise field_error(field, f"This place lies outside {grid.name}; choose the grid it is in, or leave the grid out to derive it.",
                          CommunityErrorCode.LOCATION_OUTSIDE_AREA)
    return grid
