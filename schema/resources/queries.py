"""Queries of facilities and supplies: the nearest open shelter with room (everyone), the
facilities, warehouses, stock, ledger and distribution lists of an area (staff)."""

from __future__ import annotations

import graphene
from django.db.models import Q
from graphene_django import DjangoConnectionField

from community.models import Area, AreaKind, Household
from community.permissions import Action, can
from resources import access
from resources.distribution import distribution_list
from resources.facilities import nearest_open_shelters
from resources.models import Facility, Stock, StockMovement, SupplyItem, Warehouse

from ..core.errors import PermissionDenied
from ..core.lookup import get_node_or_error, get_node_or_none
from ..core.permissions import current_user, require
from ..core.scalars import LocationInput, location_to_wgs84
from ..core.types import plain
from .types import (
    FacilityKindEnum,
    FacilityStatusEnum,
    FacilityType,
    HouseholdDistributionType,
    MovementKindEnum,
    ReceivedUnits,
    StockMovementType,
    StockType,
    SupplyItemType,
    WarehouseType,
)

MAX_SEARCH = 20


class NearbyShelterConnection(graphene.relay.Connection):
    class Meta:
        node = FacilityType

    class Edge:
        distance_m = graphene.Float(required=True, description="Metres from the given location.")

        def resolve_distance_m(edge, info):
            return edge.node.distance_m

    total_count = graphene.Int(required=True)

    def resolve_total_count(root, info):
        return len(root.iterable)


def _area(info, area_id: str, action: Action = Action.VIEW_AREA) -> Area:
    area = get_node_or_error(Area, area_id, "area_id")
    require(info, action, area)
    return area


class ResourcesQueries(graphene.ObjectType):
    facilities = DjangoConnectionField(
        FacilityType, area_id=graphene.ID(description="In this area's subtree."),
        kinds=graphene.List(graphene.NonNull(FacilityKindEnum)), status=FacilityStatusEnum(),
        description="Facilities you may see: staff every one of their areas, everyone else open ones.",
    )
    nearest_open_shelters = graphene.relay.ConnectionField(
        NearbyShelterConnection, location=LocationInput(required=True),
        radius_m=graphene.Int(default_value=5000, description="1 to 50000 metres."),
        people=graphene.Int(default_value=1, description="Room needed for this many."),
        wheelchair=graphene.Boolean(default_value=False), elderly_care=graphene.Boolean(default_value=False),
        limit=graphene.Int(default_value=5, description="At most 50."),
        description="Anyone signed in: open shelters with room near a place, nearest first.",
    )
    households_for_check_in = graphene.List(
        graphene.NonNull("schema.community.people_types.HouseholdType"), required=True,
        facility_id=graphene.ID(required=True), search=graphene.String(required=True),
        description="Who checks people in at this shelter: households of its subdistrict by label or a member's name (20).",
    )
    supply_items = DjangoConnectionField(SupplyItemType, search=graphene.String(), description="The supplies catalogue.")
    warehouses = DjangoConnectionField(WarehouseType, area_id=graphene.ID(), description="Staff: warehouses of your areas.")
    stock = DjangoConnectionField(
        StockType, area_id=graphene.ID(), warehouse_id=graphene.ID(), item_id=graphene.ID(),
        low_only=graphene.Boolean(default_value=False), description="Staff: stock per warehouse and item.",
    )
    stock_movements = DjangoConnectionField(
        StockMovementType, warehouse_id=graphene.ID(required=True), item_id=graphene.ID(),
        kinds=graphene.List(graphene.NonNull(MovementKindEnum)), description="Staff: a warehouse's ledger, newest first.",
    )
    distribution_list = graphene.List(
        graphene.NonNull(HouseholdDistributionType), required=True, area_id=graphene.ID(required=True),
        item_id=graphene.ID(), since=graphene.DateTime(), only_missing=graphene.Boolean(default_value=False),
        limit=graphene.Int(default_value=200), offset=graphene.Int(default_value=0),
        description="Staff: the area's households, vulnerable first, with what each received (onlyMissing: "
                    "those that have not yet received itemId).",
    )

    def resolve_facilities(root, info, area_id=None, kinds=None, status=None, **kwargs):
        current_user(info)
        qs = Facility.objects.order_by("area__path", "kind", "name", "id")
        area = get_node_or_none(Area, area_id, "area_id")
        if area is not None:
            qs = qs.filter(area__path__startswith=area.path)
        if kinds:
            qs = qs.filter(kind__in=plain(kinds))
        if status is not None:
            qs = qs.filter(status=plain(status))
        return qs

    def resolve_nearest_open_shelters(root, info, location, radius_m=5000, people=1, wheelchair=False, elderly_care=False,
                                      limit=5, **kwargs):
        current_user(info)
        lat, lng = location_to_wgs84(location, "location")
        found = nearest_open_shelters(lat, lng, radius_m=radius_m, limit=limit, people=people, wheelchair=wheelchair,
                                      elderly_care=elderly_care)
        for shelter, distance in found:
            shelter.distance_m = round(distance, 1)
        return [shelter for shelter, _ in found]

    def resolve_households_for_check_in(root, info, facility_id, search):
        user = current_user(info)
        facility = get_node_or_error(Facility.objects.select_related("area"), facility_id, "facility_id")
        if not access.can_check_in(user, facility):
            raise PermissionDenied()
        term = search.strip()[:50]
        if not term:
            return []
        around = facility.area.ancestors_and_self().filter(kind=AreaKind.SUBDISTRICT).first() or facility.area
        named = Q(label__icontains=term) | Q(members__display_name__icontains=term)
        return list(Household.objects.filter(named, grid__path__startswith=around.path).select_related("grid")
                    .distinct().order_by("label", "pk")[:MAX_SEARCH])

    def resolve_supply_items(root, info, search=None, **kwargs):
        current_user(info)
        qs = SupplyItem.objects.filter(is_active=True).order_by("category", "code")
        if search:
            qs = qs.filter(Q(name__icontains=search[:50]) | Q(code__icontains=search[:50]))
        return qs

    def resolve_warehouses(root, info, area_id=None, **kwargs):
        current_user(info)
        qs = Warehouse.objects.filter(is_active=True).order_by("area__path", "name")
        area = get_node_or_none(Area, area_id, "area_id")
        return qs.filter(area__path__startswith=area.path) if area is not None else qs

    def resolve_stock(root, info, area_id=None, warehouse_id=None, item_id=None, low_only=False, **kwargs):
        current_user(info)
        qs = Stock.objects.order_by("warehouse__code", "item__category", "item__code")
        area = get_node_or_none(Area, area_id, "area_id")
        if area is not None:
            qs = qs.filter(warehouse__area__path__startswith=area.path)
        warehouse = get_node_or_none(Warehouse, warehouse_id, "warehouse_id")
        if warehouse is not None:
            qs = qs.filter(warehouse=warehouse)
        item = get_node_or_none(SupplyItem, item_id, "item_id")
        if item is not None:
            qs = qs.filter(item=item)
        if low_only:
            qs = qs.filter(low_alerted_at__isnull=False)
        return qs

    def resolve_stock_movements(root, info, warehouse_id, item_id=None, kinds=None, **kwargs):
        user = current_user(info)
        warehouse = get_node_or_error(Warehouse.objects.select_related("area"), warehouse_id, "warehouse_id")
        if not can(user, Action.VIEW_AREA, warehouse.area):
            raise PermissionDenied()
        qs = StockMovement.objects.filter(warehouse=warehouse).order_by("-created_at", "-id")
        item = get_node_or_none(SupplyItem, item_id, "item_id")
        if item is not None:
            qs = qs.filter(item=item)
        if kinds:
            qs = qs.filter(kind__in=plain(kinds))
        return qs

    def resolve_distribution_list(root, info, area_id, item_id=None, since=None, only_missing=False, limit=200, offset=0):
        area = _area(info, area_id, Action.VIEW_PEOPLE)
        item = get_node_or_none(SupplyItem, item_id, "item_id")
        rows = distribution_list(area, item=item, since=since, only_missing=only_missing, limit=limit, offset=offset)
        flags = can(info.context.user, Action.VIEW_PERSONAL_DATA, area)
        items = SupplyItem.objects.in_bulk({i for r in rows for i in r.received})
        return [HouseholdDistributionType(
            household=r.household, grid=r.household.grid, members=r.members, vulnerable=r.vulnerable,
            vulnerability_flags=r.flags if flags else [],
            received=[ReceivedUnits(item=items[i], units=n) for i, n in sorted(r.received.items())],
        ) for r in rows]
