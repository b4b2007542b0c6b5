"""Drawing areas: a boundary is set from above (MANAGE_AREAS over the area's parent — a
community admin draws their grids, a commander the communities below them), so nobody
redraws the territory of their own role."""

from __future__ import annotations

import graphene

from community.boundaries import set_area_boundary
from community.models import Area
from community.permissions import Action, can

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import DatumEnum, GeoJSON
from ...core.types import plain
from ..types import AreaType


def may_draw(user, area: Area) -> bool:
    parent = Area.objects.get_parent(area)
    return user.is_superuser if parent is None else can(user, Action.MANAGE_AREAS, parent)


class SetAreaBoundary(BaseMutation):
    """Set (or, with geoJson null, remove) an area's boundary. Refused with INVALID_BOUNDARY
    (malformed, self-intersecting, empty, outside China), BOUNDARY_OUTSIDE_PARENT,
    BOUNDARY_EXCLUDES_CHILD or BOUNDARY_OVERLAP (the message names the other area)."""

    area = graphene.Field(AreaType)

    class Arguments:
        area_id = graphene.ID(required=True)
        geo_json = GeoJSON(description="A GeoJSON Polygon or MultiPolygon (or a Feature holding one); null removes it.")
        datum = DatumEnum(default_value="WGS84", description="The datum of the coordinates; GCJ02/BD09 are converted.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, geo_json=None, datum="WGS84"):
        user = current_user(info)
        area = get_node_or_error(Area, area_id, "area_id")
        if not may_draw(user, area):
            raise PermissionDenied()
        return cls(errors=[], area=set_area_boundary(area, geo_json, datum=plain(datum)))
