from __future__ import annotations

import graphene
from graphene_django import DjangoConnectionField

from community.grids import locate
from community.models import Area
from community.permissions import can_view_area

from ..core.permissions import current_user
from ..core.scalars import LocationInput, location_to_wgs84
from ..core.types import Node
from .people_queries import HazardQueries, ResidentQueries
from .types import AreaAtType, AreaKindEnum, AreaType, UserType


class CommunityQueries(ResidentQueries, HazardQueries, graphene.ObjectType):
    me = graphene.Field(UserType, description="The logged-in user, or null.")
    area = graphene.Field(AreaType, id=graphene.ID(required=True))
    areas = DjangoConnectionField(
        AreaType,
        kind=AreaKindEnum(),
        parent_id=graphene.ID(description="Only the direct children of this area."),
        description="Areas you may see: your subtree, its ancestors, and the areas you belong to.",
    )

    area_at = graphene.Field(
        AreaAtType, location=LocationInput(required=True),
        description="Which grid a place lies in (by the grids' boundaries; the nearest centre only for grids "
                    "without one), scoped like `area`: null when it lies in no grid we serve.",
    )

    def resolve_area_at(root, info, location):
        user = current_user(info)
        grid, by_boundary = locate(*location_to_wgs84(location))
        if grid is None:
            return None
        visible = [a for a in grid.ancestors_and_self() if can_view_area(user, a)]
        if not visible:
            return None
        return AreaAtType(grid=grid if visible[-1].pk == grid.pk else None, area=visible[-1], by_boundary=by_boundary)

    def resolve_me(root, info):
        user = info.context.user
        return user if user.is_authenticated else None

    def resolve_area(root, info, id):
        current_user(info)
        return Node.get_node_from_global_id(info, id, only_type=AreaType)

    def resolve_areas(root, info, kind=None, parent_id=None, **kwargs):
        current_user(info)
        qs = Area.objects.order_by("path")
        if kind:
            qs = qs.filter(kind=kind.value if hasattr(kind, "value") else kind)
        if parent_id:
            parent = Node.get_node_from_global_id(info, parent_id, only_type=AreaType)
            if parent is None:
                return Area.objects.none()
            qs = qs.filter(path__startswith=parent.path, depth=parent.depth + 1)
        return qs
