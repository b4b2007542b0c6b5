"""Supplies: the catalogue (staff at district level or above), warehouses, and every stock
movement (MANAGE_RESOURCES over the warehouse's area). A quantity that is not a positive
whole number is INVALID_QUANTITY; more than is free is INSUFFICIENT_STOCK; nothing changes."""

from __future__ import annotations

import graphene

from community.models import Area, AreaKind, Household
from community.permissions import Action, scope_paths
from resources import access
from resources.deliveries import add_task_supply, remove_task_supply
from resources.models import StockMovement, SupplyItem, TaskSupply, Warehouse
from resources.supplies import (
    ItemSpec,
    adjust,
    distribute,
    issue,
    receive,
    save_item,
    save_warehouse,
    set_low_threshold,
    transfer,
)

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.types import plain
from ...volunteers.mutations.tasks import managed_task
from ..types import (
    StockMovementType,
    StockType,
    SupplyCategoryEnum,
    SupplyItemType,
    TaskSupplyType,
    WarehouseType,
)


def _managed_warehouse(info, warehouse_id: str, field: str = "warehouse_id") -> Warehouse:
    user = current_user(info)
    warehouse = get_node_or_error(Warehouse.objects.select_related("area"), warehouse_id, field)
    if not access.can_manage_stock(user, warehouse):
        raise PermissionDenied()
    return warehouse


def _item(item_id: str) -> SupplyItem:
    return get_node_or_error(SupplyItem, item_id, "item_id")


class SupplyItemInput(graphene.InputObjectType):
    code = graphene.String(required=True)
    name = graphene.String(required=True)
    unit = graphene.String(required=True, description="e.g. 箱, 瓶, 顶")
    category = SupplyCategoryEnum(default_value="OTHER")
    name_en = graphene.String(default_value="")
    unit_en = graphene.String(default_value="")


class SaveSupplyItem(BaseMutation):
    """Add to the catalogue, or change an item (itemId). Staff holding a role at district
    level or above (the catalogue is shared by every warehouse)."""

    item = graphene.Field(SupplyItemType)

    class Arguments:
        input = SupplyItemInput(required=True)
        item_id = graphene.ID()

    @classmethod
    def perform_mutation(cls, root, info, input, item_id=None):
        user = current_user(info)
        paths = scope_paths(user, Action.MANAGE_RESOURCES)
        top = paths is None or Area.objects.filter(path__in=paths, kind__in=[AreaKind.CITY, AreaKind.DISTRICT]).exists()
        if not top:
            raise PermissionDenied()
        item = get_node_or_none(SupplyItem, item_id, "item_id")
        spec = ItemSpec(code=input["code"], name=input["name"], unit=input["unit"], category=plain(input.get("category")) or "OTHER",
                        name_en=input.get("name_en") or "", unit_en=input.get("unit_en") or "")
        return cls(errors=[], item=save_item(spec, item=item))


class SaveWarehouse(BaseMutation):
    warehouse = graphene.Field(WarehouseType)

    class Arguments:
        area_id = graphene.ID(required=True, description="The community, subdistrict or district keeping it.")
        code = graphene.String(required=True)
        name = graphene.String(required=True)
        address = graphene.String(default_value="")
        location = LocationInput(description="Default: the area's centre.")
        warehouse_id = graphene.ID()

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, code, name, address="", location=None, warehouse_id=None):
        user = current_user(info)
        area = get_node_or_error(Area, area_id, "area_id")
        if not access.can_manage_stock(user, area):
            raise PermissionDenied()
        existing = _managed_warehouse(info, warehouse_id) if warehouse_id else None
        point = location_to_wgs84(location) if location else None
        return cls(errors=[], warehouse=save_warehouse(area=area, code=code, name=name, address=address, location=point,
                                                       warehouse=existing))


class _Movement(BaseMutation):
    movement = graphene.Field(StockMovementType)
    stock = graphene.Field(StockType)

    class Meta:
        abstract = True

    @classmethod
    def payload(cls, movement: StockMovement):
        return cls(errors=[], movement=movement, stock=movement.warehouse.stock.get(item=movement.item))


class ReceiveStock(_Movement):
    """Goods in (RECEIVED)."""

    class Arguments:
        warehouse_id = graphene.ID(required=True)
        item_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True, description="Units received, 1 or more.")
        reason = graphene.String(default_value="", description="e.g. 区应急局调拨")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, warehouse_id, item_id, quantity, reason=""):
        warehouse = _managed_warehouse(info, warehouse_id)
        return cls.payload(receive(warehouse, _item(item_id), quantity, by=current_user(info), reason=reason))


class IssueStock(_Movement):
    """Goods out for a use other than a household (ISSUED): say what for."""

    class Arguments:
        warehouse_id = graphene.ID(required=True)
        item_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)
        reason = graphene.String(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, warehouse_id, item_id, quantity, reason):
        warehouse = _managed_warehouse(info, warehouse_id)
        return cls.payload(issue(warehouse, _item(item_id), quantity, by=current_user(info), reason=reason))


class DistributeSupplies(_Movement):
    """Given to a household at the door (DISTRIBUTED); it shows on the distribution list."""

    class Arguments:
        warehouse_id = graphene.ID(required=True)
        item_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)
        household_id = graphene.ID(required=True)
        reason = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, warehouse_id, item_id, quantity, household_id, reason=""):
        warehouse = _managed_warehouse(info, warehouse_id)
        household = get_node_or_error(Household, household_id, "household_id")
        return cls.payload(distribute(warehouse, _item(item_id), quantity, household=household, by=current_user(info),
                                      reason=reason))


class AdjustStock(_Movement):
    """A correction after a count (ADJUSTED): change is signed (-3: three broken), never 0;
    the reason is required."""

    class Arguments:
        warehouse_id = graphene.ID(required=True)
        item_id = graphene.ID(required=True)
        change = graphene.Int(required=True)
        reason = graphene.String(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, warehouse_id, item_id, change, reason):
        warehouse = _managed_warehouse(info, warehouse_id)
        return cls.payload(adjust(warehouse, _item(item_id), change, by=current_user(info), reason=reason))


class TransferStock(BaseMutation):
    """From one warehouse to another (TRANSFER_OUT and TRANSFER_IN, in one transaction); you
    manage both."""

    out = graphene.Field(StockMovementType)
    into = graphene.Field(StockMovementType, name="in")

    class Arguments:
        from_warehouse_id = graphene.ID(required=True)
        to_warehouse_id = graphene.ID(required=True)
        item_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)
        reason = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, from_warehouse_id, to_warehouse_id, item_id, quantity, reason=""):
        source = _managed_warehouse(info, from_warehouse_id, "from_warehouse_id")
        target = _managed_warehouse(info, to_warehouse_id, "to_warehouse_id")
        out, into = transfer(source, target, _item(item_id), quantity, by=current_user(info), reason=reason)
        return cls(errors=[], out=out, into=into)


class SetStockThreshold(BaseMutation):
    """Alert the responsible staff when what is free falls below `threshold` (0: never)."""

    stock = graphene.Field(StockType)

    class Arguments:
        warehouse_id = graphene.ID(required=True)
        item_id = graphene.ID(required=True)
        threshold = graphene.Int(required=True)

    @classmethod
    def perform_mutation(cls, root, info, warehouse_id, item_id, threshold):
        warehouse = _managed_warehouse(info, warehouse_id)
        return cls(errors=[], stock=set_low_threshold(warehouse, _item(item_id), threshold))


class AddTaskSupply(BaseMutation):
    """A task carries supplies ("2 boxes of water to this household"): the stock is reserved
    now, distributed when the task is done, released if it is cancelled. You manage the task
    and the warehouse."""

    task_supply = graphene.Field(TaskSupplyType)

    class Arguments:
        task_id = graphene.ID(required=True)
        warehouse_id = graphene.ID(required=True)
        item_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)
        household_id = graphene.ID(description="Who it is for (in the task's area).")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, task_id, warehouse_id, item_id, quantity, household_id=None):
        task = managed_task(info, task_id)
        warehouse = _managed_warehouse(info, warehouse_id)
        household = get_node_or_none(Household.objects.select_related("grid"), household_id, "household_id")
        line = add_task_supply(task, warehouse, _item(item_id), quantity, household=household, by=current_user(info))
        return cls(errors=[], task_supply=line)


class RemoveTaskSupply(BaseMutation):
    """Take a line off a task before it is done: the reservation is released."""

    task_supply = graphene.Field(TaskSupplyType)

    class Arguments:
        task_supply_id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, task_supply_id):
        line = get_node_or_error(TaskSupply.objects.select_related("task__area", "warehouse", "item"), task_supply_id,
                                 "task_supply_id")
        managed_task(info, graphene.Node.to_global_id("Task", line.task_id))
        return cls(errors=[], task_supply=remove_task_supply(line))
