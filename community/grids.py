"""Which grid (网格) a place belongs to: the nearest grid centre, within reach.

Grids carry a centre (Area.center_lat/center_lng), not a polygon, so a point belongs to the
grid whose centre is nearest, provided it is within GRID_MAX_DISTANCE_M (farther away the
point is outside every community we serve). Staff can override the result per resident.
"""

from __future__ import annotations

import math

from django.conf import settings

from core.errors import field_error

from .error_codes import CommunityErrorCode
from .geo import distance_m
from .models import Area, AreaKind


def derive_grid(lat: float, lng: float, within: Area | None = None) -> Area | None:
    """The grid of (lat, lng), searched in `within`'s subtree (or everywhere); None if none
    is close enough."""
    reach = settings.GRID_MAX_DISTANCE_M
    dlat = reach / 111_000
    dlng = reach / (111_000 * max(0.05, math.cos(math.radians(lat))))
    grids = Area.objects.filter(
        kind=AreaKind.GRID,
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
