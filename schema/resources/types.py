"""GraphQL types of facilities, shelter stays, supplies and stock.

Who sees what: everyone signed in sees open facilities (and their room); staff of the area
see every facility of their areas, warehouses, stock and the ledger; who is inside a shelter
(names, vulnerability) only those who check people in there and staff with personal-data
rights. Lists are scoped in get_queryset and get_node repeats the check.
"""

from __future__ import annotations

import graphene
from graphene_django import DjangoObjectType

from community.permissions import Action, can
from resources import access
from resources.models import (
    DeliveryStatus,
    Facility,
    FacilityEvent,
    FacilityEventKind,
    FacilityKind,
    FacilityStatus,
    MovementKind,
    ShelterStay,
    Stock,
    StockMovement,
    SupplyCategory,
    SupplyItem,
    TaskSupply,
    Warehouse,
)
from volunteers import access as volunteer_access

from ..community.people_types import HouseholdType
from ..community.types import AreaType
from ..core.scalars import Location
from ..core.types import CountedConnection, Node


def _enum(name: str, choices, description: str = "") -> type[graphene.Enum]:
    return graphene.Enum(name, [(m.name, m.value) for m in choices], description=description)


def plain(value):
    return None if value in (None, "") else str(getattr(value, "value", value))


FacilityKindEnum = _enum("FacilityKind", FacilityKind, "SHELTER (避难场所), MEDICAL (医疗点), WATER (供水点), CHARGING (充电点)")
FacilityStatusEnum = _enum("FacilityStatus", FacilityStatus, "CLOSED, OPEN, or FULL (open with no room left)")
FacilityEventKindEnum = _enum("FacilityEventKind", FacilityEventKind)
SupplyCategoryEnum = _enum("SupplyCategory", SupplyCategory)
MovementKindEnum = _enum("StockMovementKind", MovementKind, "RECEIVED, ISSUED, TRANSFER_OUT/IN, DISTRIBUTED, ADJUSTED")
DeliveryStatusEnum = _enum("TaskSupplyStatus", DeliveryStatus, "RESERVED until the task is done (DISTRIBUTED) or cancelled (RELEASED)")


def _user(info):
    return info.context.user


class FacilityEventType(DjangoObjectType):
    kind = graphene.Field(FacilityEventKindEnum, required=True)

    class Meta:
        model = FacilityEvent
        name = "FacilityEvent"
        fields = ("at", "kind", "delta", "occupancy", "reason")

    def resolve_kind(self, info):
        return plain(self.kind)


class ShelterStayType(DjangoObjectType):
    household = graphene.Field(HouseholdType)
    facility = graphene.Field(lambda: FacilityType, required=True)
    resident_id = graphene.ID(description="The resident's ID; null for someone not on the roster.")
    vulnerability_flags = graphene.List(graphene.NonNull(graphene.String), required=True)
    is_inside = graphene.Boolean(required=True)

    class Meta:
        model = ShelterStay
        name = "ShelterStay"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "name", "is_vulnerable", "checked_in_at", "checked_out_at")

    @classmethod
    def get_node(cls, info, id):
        stay = ShelterStay.objects.select_related("facility__area").filter(pk=id).first()
        return stay if stay and access.can_see_stays(_user(info), stay.facility) else None

    def resolve_household(self, info):
        return self.household

    def resolve_resident_id(self, info):
        return graphene.Node.to_global_id("Resident", self.resident_id) if self.resident_id else None

    def resolve_vulnerability_flags(self, info):
        return list(self.vulnerability_flags)

    def resolve_is_inside(self, info):
        return self.checked_out_at is None


class FacilityType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    kind = graphene.Field(FacilityKindEnum, required=True)
    status = graphene.Field(FacilityStatusEnum, required=True)
    location = graphene.Field(Location, required=True)
    room = graphene.Int(required=True, description="Places left (shelters): capacity - occupancy.")
    can_manage = graphene.Boolean(required=True, description="You may edit, open and close it.")
    can_check_in = graphene.Boolean(required=True, description="You may check people in and out here.")
    stays = graphene.List(graphene.NonNull(ShelterStayType), required=True, inside_only=graphene.Boolean(default_value=True),
                          description="Who is (or was) checked in, vulnerable first; empty unless you check people in here.")
    events = graphene.List(graphene.NonNull(FacilityEventType), required=True, last=graphene.Int(default_value=50),
                           description="Staff: openings, closings and occupancy after each check-in or check-out.")

    class Meta:
        model = Facility
        name = "Facility"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "code", "name", "name_en", "address", "capacity", "occupancy", "wheelchair_accessible",
                  "elderly_care", "notes", "status_changed_at", "area")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_facilities(_user(info)).values("pk")
        return queryset.filter(pk__in=visible).select_related("area")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Facility.objects.filter(pk=id), info).first()

    def resolve_kind(self, info):
        return plain(self.kind)

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_location(self, info):
        return Location(latitude=self.lat, longitude=self.lng)

    def resolve_room(self, info):
        return self.room

    def resolve_can_manage(self, info):
        return access.can_manage_facility(_user(info), self)

    def resolve_can_check_in(self, info):
        return self.holds_people and access.can_check_in(_user(info), self)

    def resolve_stays(self, info, inside_only=True):
        if not access.can_see_stays(_user(info), self):
            return []
        stays = self.stays.select_related("household__grid").order_by("-is_vulnerable", "checked_in_at", "id")
        return list(stays.filter(checked_out_at__isnull=True) if inside_only else stays[:1000])

    def resolve_events(self, info, last=50):
        if not can(_user(info), Action.VIEW_AREA, self.area):
            return []
        return list(reversed(self.events.order_by("-at", "-id")[: max(1, min(last, 500))]))


class SupplyItemType(DjangoObjectType):
    category = graphene.Field(SupplyCategoryEnum, required=True)

    class Meta:
        model = SupplyItem
        name = "SupplyItem"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "code", "name", "name_en", "unit", "unit_en", "is_active")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset if _user(info).is_authenticated else queryset.none()

    def resolve_category(self, info):
        return plain(self.category)


class StockType(DjangoObjectType):
    warehouse = graphene.Field(lambda: WarehouseType, required=True)
    item = graphene.Field(SupplyItemType, required=True)
    available = graphene.Int(required=True, description="quantity - reserved: what can still be promised.")
    is_low = graphene.Boolean(required=True, description="Available below the threshold (staff were alerted).")

    class Meta:
        model = Stock
        name = "Stock"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "quantity", "reserved", "low_threshold", "low_alerted_at", "updated_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_stock(_user(info)).values("pk")
        return queryset.filter(pk__in=visible).select_related("warehouse__area", "item")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Stock.objects.filter(pk=id), info).first()

    def resolve_available(self, info):
        return self.available

    def resolve_is_low(self, info):
        return self.is_low


class WarehouseType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    location = graphene.Field(Location)
    stock = graphene.List(graphene.NonNull(StockType), required=True)

    class Meta:
        model = Warehouse
        name = "Warehouse"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "code", "name", "address", "is_active", "area")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_warehouses(_user(info)).values("pk")
        return queryset.filter(pk__in=visible).select_related("area")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Warehouse.objects.filter(pk=id), info).first()

    def resolve_location(self, info):
        return Location(latitude=self.lat, longitude=self.lng) if self.point else None

    def resolve_stock(self, info):
        return list(self.stock.select_related("item").order_by("item__category", "item__code"))


class StockMovementType(DjangoObjectType):
    kind = graphene.Field(MovementKindEnum, required=True)
    warehouse = graphene.Field(WarehouseType, required=True)
    item = graphene.Field(SupplyItemType, required=True)
    household = graphene.Field(HouseholdType)
    task_id = graphene.ID()
    created_by_name = graphene.String()

    class Meta:
        model = StockMovement
        name = "StockMovement"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "change", "balance_after", "reason", "created_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_movements(_user(info)).values("pk")
        return queryset.filter(pk__in=visible).select_related("warehouse__area", "item", "household__grid", "created_by")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(StockMovement.objects.filter(pk=id), info).first()

    def resolve_kind(self, info):
        return plain(self.kind)

    def resolve_household(self, info):
        return self.household

    def resolve_task_id(self, info):
        return graphene.Node.to_global_id("Task", self.task_id) if self.task_id else None

    def resolve_created_by_name(self, info):
        return self.created_by.public_name if self.created_by_id else None


class TaskSupplyType(DjangoObjectType):
    """What a task carries: shown to whoever sees the task; the household to staff and to the
    people on the task."""

    status = graphene.Field(DeliveryStatusEnum, required=True)
    item = graphene.Field(SupplyItemType, required=True)
    warehouse_name = graphene.String(required=True)
    household_label = graphene.String(description="Staff and the people on the task.")
    task_id = graphene.ID(required=True)

    class Meta:
        model = TaskSupply
        name = "TaskSupply"
        interfaces = (Node,)
        fields = ("id", "quantity", "reserved_at", "settled_at")

    @classmethod
    def get_node(cls, info, id):
        line = TaskSupply.objects.select_related("task").filter(pk=id).first()
        visible = line is not None and volunteer_access.visible_tasks(_user(info)).filter(pk=line.task_id).exists()
        return line if visible else None

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_warehouse_name(self, info):
        return self.warehouse.name

    def resolve_household_label(self, info):
        if self.household_id is None:
            return None
        user = _user(info)
        on_task = self.task.assignments.filter(user=user).exists()
        return self.household.label if on_task or volunteer_access.can_manage_task(user, self.task) else None

    def resolve_task_id(self, info):
        return graphene.Node.to_global_id("Task", self.task_id)


class ReceivedUnits(graphene.ObjectType):
    item = graphene.Field(SupplyItemType, required=True)
    units = graphene.Int(required=True)


class HouseholdDistributionType(graphene.ObjectType):
    class Meta:
        name = "HouseholdDistribution"
        description = "A household on a distribution list: vulnerable first, with what it received."

    household = graphene.Field(HouseholdType, required=True)
    grid = graphene.Field(AreaType, required=True)
    members = graphene.Int(required=True)
    vulnerable = graphene.Int(required=True, description="Members flagged vulnerable.")
    vulnerability_flags = graphene.List(graphene.NonNull(graphene.String), required=True,
                                        description="With personal-data rights only; else empty.")
    received = graphene.List(graphene.NonNull(ReceivedUnits), required=True)
