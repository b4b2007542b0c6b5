from __future__ import annotations

import graphene
from graphene_django import DjangoObjectType

from community.models import Area, AreaKind, Language, Mode, Role, RoleAssignment, User
from community.permissions import can_view_area, visible_areas_q
from emergency.drills import covering_drill

from ..core.types import CountedConnection, Node

ModeEnum = graphene.Enum.from_enum(Mode, description="平时/预警/应急/恢复")
AreaKindEnum = graphene.Enum.from_enum(AreaKind)
RoleEnum = graphene.Enum.from_enum(Role)
LanguageEnum = graphene.Enum(
    "LanguageEnum", [("ZH_HANS", Language.ZH_HANS.value), ("EN", Language.EN.value)]
)


class AreaType(DjangoObjectType):
    kind = graphene.Field(AreaKindEnum, required=True)
    mode = graphene.Field(ModeEnum, required=True, description="The area's own mode.")
    effective_mode = graphene.Field(
        ModeEnum,
        required=True,
        description="The most severe of the area's own mode and its ancestors' modes.",
    )
    active_drill = graphene.Field(
        "schema.emergency.drill_types.DrillType",
        description="The drill running on this area or the nearest ancestor that has one (null: none). A drill is an "
                    "overlay: `mode` and `effectiveMode` stay the real ones.",
    )
    parent = graphene.Field(lambda: AreaType)
    ancestors = graphene.List(graphene.NonNull(lambda: AreaType), required=True, description="Root first.")

    class Meta:
        model = Area
        name = "Area"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "name", "code", "kind", "mode", "mode_changed_at", "depth")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(visible_areas_q(info.context.user))

    @classmethod
    def get_node(cls, info, id):
        area = Area.objects.filter(pk=id).first()
        if area is None or not can_view_area(info.context.user, area):
            return None
        return area

    def resolve_effective_mode(self, info):
        return self.effective_mode()

    def resolve_active_drill(self, info):
        return covering_drill(self)

    def resolve_parent(self, info):
        parent = Area.objects.get_parent(self)
        return parent if parent and can_view_area(info.context.user, parent) else None

    def resolve_ancestors(self, info):
        return [a for a in self.ancestors_and_self() if a.pk != self.pk]


class RoleAssignmentType(DjangoObjectType):
    role = graphene.Field(RoleEnum, required=True)
    area = graphene.Field(AreaType, required=True)

    class Meta:
        model = RoleAssignment
        name = "RoleAssignment"
        fields = ("role", "area")


class UserType(DjangoObjectType):
    """A person. Only the person themself (via `me`) sees their full phone number."""

    phone = graphene.String(description="E.164; masked unless you are this user.")
    preferred_language = graphene.Field(LanguageEnum, required=True)
    roles = graphene.List(graphene.NonNull(RoleAssignmentType), required=True)

    class Meta:
        model = User
        name = "User"
        interfaces = (Node,)
        fields = ("id", "username", "display_name", "preferred_language")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return queryset.filter(pk=user.pk) if user.is_authenticated else queryset.none()

    @classmethod
    def get_node(cls, info, id):
        user = info.context.user
        return user if user.is_authenticated and str(user.pk) == str(id) else None

    def resolve_preferred_language(self, info):
        return str(self.preferred_language)  # a fresh account holds the choices member, not its value

    def resolve_phone(self, info):
        if not self.phone:
            return None
        if info.context.user.pk == self.pk:
            return str(self.phone)
        return self.masked_phone

    def resolve_roles(self, info):
        if info.context.user.pk != self.pk:
            return []
        return self.roles.select_related("area")


class AreaModeChangedEvent(graphene.ObjectType):
    """Pushed when the mode of an area, or of one of its ancestors, is switched."""

    area = graphene.Field(AreaType, required=True, description="The area you subscribed to.")
    switched_area = graphene.Field(AreaType, required=True, description="Where the switch was made.")
    mode = graphene.Field(ModeEnum, required=True, description="The switched area's new mode.")
    from_mode = graphene.Field(ModeEnum, required=True)
    effective_mode = graphene.Field(ModeEnum, required=True, description="Your area's effective mode now.")
    is_drill = graphene.Boolean(required=True)
    reason = graphene.String(required=True)
    changed_at = graphene.DateTime(required=True)
