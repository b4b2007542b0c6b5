from __future__ import annotations

import graphene
from graphene_django import DjangoConnectionField

from community.models import Area

from ..core.permissions import current_user
from ..core.types import Node
from .people_queries import HazardQueries, ResidentQueries
from .types import AreaKindEnum, AreaType, UserType


class CommunityQueries(ResidentQueries, HazardQueries, graphene.ObjectType):
    me = graphene.Field(UserType, description="The logged-in user, or null.")
    area = graphene.Field(AreaType, id=graphene.ID(required=True))
    areas = DjangoConnectionField(
        AreaType,
        kind=AreaKindEnum(),
        parent_id=graphene.ID(description="Only the direct children of this area."),
        description="Areas you may see: your subtree, its ancestors, and the areas you belong to.",
    )

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
