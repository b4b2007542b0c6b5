"""Boundaries for tests: rectangles in GeoJSON, and the small world drawn with them.

The small world's grids are drawn as 0.004° squares around their centres (about 445 m by
385 m near Hangzhou), each community as the 2x2 block that holds its grids:

    甲二 (30.273-30.277, 120.153-120.157)      乙二 (30.293-30.297, 120.173-120.177)
    甲一 (30.269-30.273, 120.149-120.153)      乙一 (30.289-30.293, 120.169-120.173)
"""

from __future__ import annotations

from community.boundaries import set_area_boundary
from community.models import Area


def rect(south: float, west: float, north: float, east: float) -> dict:
    """A GeoJSON Polygon for the box; coordinates are [longitude, latitude]."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def square(lat: float, lng: float, half: float = 0.002) -> dict:
    return rect(lat - half, lng - half, lat + half, lng + half)


def grid_square(area: Area) -> dict:
    return square(area.center_lat, area.center_lng)


def draw_world(world, *, communities: bool = True) -> None:
    """Communities first (their grids must lie inside them), then the grids."""
    if communities:
        set_area_boundary(world.com_a, rect(30.269, 120.149, 30.277, 120.157))
        set_area_boundary(world.com_b, rect(30.289, 120.169, 30.297, 120.177))
    for grid in (world.grid_a1, world.grid_a2, world.grid_b1, world.grid_b2):
        set_area_boundary(grid, grid_square(grid))
    for name in ("com_a", "com_b", "grid_a1", "grid_a2", "grid_b1", "grid_b2"):
        setattr(world, name, Area.objects.get(pk=getattr(world, name).pk))
