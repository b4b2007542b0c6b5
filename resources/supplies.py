"""Supplies: the catalogue, warehouses and every movement of stock, with low-stock alerts.

    receive(warehouse, item, 100, by=staff, reason="区应急局调拨")
    issue(warehouse, item, 5, by=staff, reason="...")
    distribute(warehouse, item, 2, household=h, by=staff)     # to a household, at the door
    transfer(source, target, item, 20, by=staff)
    adjust(warehouse, item, -3, by=staff, reason="盘点破损")    # corrections, always with a reason
    set_low_threshold(warehouse, item, 10)

Every movement appends one StockMovement (two for a transfer) in the transaction that moves
the Stock row. Stock only goes down by a conditional UPDATE requiring what is free (on the
shelf, not reserved for a task) to cover it, so two staff issuing the last boxes at once
cannot both succeed: one gets INSUFFICIENT_STOCK and nothing is written. A quantity that is
not a positive whole number is refused before anything is touched. When what is free falls
below the row's threshold the responsible staff are told once (until it is restocked).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from graphql_relay import to_global_id

from community.models import Area, AreaKind, Household, Role, User
from core.errors import ValidationError
from core.text import clean_text
from notifications.services import notify_many
from volunteers.models import Task

from .error_codes import ResourcesErrorCode as Code
from .models import MovementKind, Stock, StockMovement, SupplyCategory, SupplyItem, Warehouse

WAREHOUSE_AREA_KINDS = {AreaKind.DISTRICT, AreaKind.SUBDISTRICT, AreaKind.COMMUNITY}
MAX_QUANTITY = 1_000_000


# --- catalogue and warehouses ---------------------------------------------------------------
@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    unit: str
    category: str = SupplyCategory.OTHER
    name_en: str = ""
    unit_en: str = ""


def _code(value: str) -> str:
    code = (value or "").strip().lower()
    if not code or len(code) > 64 or not code.isascii() or not all(c.isalnum() or c in "-_" for c in code):
        raise ValidationError({"code": "1 to 64 letters, digits, - or _."}, code=Code.INVALID)
    return code


def _texts(values: dict[str, tuple[str, int, bool]]) -> dict[str, str]:
    """Each field's cleaned text, or one error naming every field at fault."""
    out: dict[str, str] = {}
    errors: dict[str, list[DjangoValidationError]] = {}
    for field, (value, longest, required) in values.items():
        try:
            out[field] = clean_text(value, field, longest, required=required)
        except DjangoValidationError as exc:
            for name, items in exc.error_dict.items():
                errors.setdefault(name, []).extend(items)
    if errors:
        raise ValidationError(errors)
    return out


def save_item(spec: ItemSpec, *, item: SupplyItem | None = None) -> SupplyItem:
    category = getattr(spec.category, "value", spec.category)
    if category not in SupplyCategory.values:
        raise ValidationError({"category": f"Use {', '.join(SupplyCategory.values)}."}, code=Code.INVALID)
    values = _texts({"name": (spec.name, 100, True), "name_en": (spec.name_en, 100, False),
                     "unit": (spec.unit, 16, True), "unit_en": (spec.unit_en, 16, False)})
    item = item or SupplyItem()
    item.code, item.category = _code(spec.code), category
    for name, value in values.items():
        setattr(item, name, value)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ValidationError({"code": "Another item has this code."}, code=Code.INVALID)
    return item


def save_warehouse(*, area: Area, code: str, name: str, address: str = "", location: tuple[float, float] | None = None,
                   warehouse: Warehouse | None = None) -> Warehouse:
    if area.kind not in WAREHOUSE_AREA_KINDS:
        raise ValidationError({"area_id": "A warehouse is kept by a district, subdistrict or community."}, code=Code.INVALID_AREA)
    values = _texts({"name": (name, 100, True), "address": (address, 255, False)})
    warehouse = warehouse or Warehouse()
    warehouse.area, warehouse.code = area, _code(code)
    warehouse.name, warehouse.address = values["name"], values["address"]
    point = location or ((area.center_lat, area.center_lng) if area.center_lat is not None else None)
    warehouse.set_location(*(point or (None, None)))
    try:
        with transaction.atomic():
            warehouse.save()
    except IntegrityError:
        raise ValidationError({"code": "Another warehouse has this code."}, code=Code.INVALID)
    return warehouse


# --- movements ------------------------------------------------------------------------------
def check_quantity(quantity: object, field: str = "quantity") -> int:
    """A positive whole number of units: a negative or zero movement is refused as such."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError({field: f"A whole number of units from 1 to {MAX_QUANTITY} (the kind of movement says "
                                      "in or out)."}, code=Code.INVALID_QUANTITY)
    return quantity


def stock_row(warehouse: Warehouse, item: SupplyItem) -> Stock:
    """The (warehouse, item) row, made at zero the first time (concurrent makers agree)."""
    row = Stock.objects.filter(warehouse=warehouse, item=item).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return Stock.objects.create(warehouse=warehouse, item=item)
    except IntegrityError:
        return Stock.objects.get(warehouse=warehouse, item=item)


def take(stock: Stock, quantity: int, *, from_reserved: bool = False, now: dt.datetime) -> None:
    """Take `quantity` off the shelf: from what is free, or (a task's delivery) from what was
    reserved for it. The conditional UPDATE is the decision; refused, nothing changes."""
    if from_reserved:
        moved = Stock.objects.filter(pk=stock.pk, reserved__gte=quantity).update(
            quantity=F("quantity") - quantity, reserved=F("reserved") - quantity, updated_at=now)
    else:
        moved = Stock.objects.filter(pk=stock.pk, quantity__gte=F("reserved") + quantity).update(
            quantity=F("quantity") - quantity, updated_at=now)
    if not moved:
        raise _insufficient(stock, quantity)


def reserve(stock: Stock, quantity: int, *, now: dt.datetime) -> None:
    if not Stock.objects.filter(pk=stock.pk, quantity__gte=F("reserved") + quantity).update(
            reserved=F("reserved") + quantity, updated_at=now):
        raise _insufficient(stock, quantity)


def release(stock: Stock, quantity: int, *, now: dt.datetime) -> None:
    Stock.objects.filter(pk=stock.pk, reserved__gte=quantity).update(reserved=F("reserved") - quantity, updated_at=now)


def _insufficient(stock: Stock, quantity: int) -> ValidationError:
    current = Stock.objects.select_related("item", "warehouse").get(pk=stock.pk)
    return ValidationError(
        {"quantity": f"{current.warehouse.name} has {current.available} {current.item.unit} of {current.item.name} free "
                     f"({current.reserved} reserved for tasks); {quantity} asked."},
        code=Code.INSUFFICIENT_STOCK)


def append(stock: Stock, kind: str, change: int, *, by: User | None, now: dt.datetime, reason: str = "",
           household: Household | None = None, task: Task | None = None, counterpart: StockMovement | None = None,
           idempotency_key: str | None = None) -> StockMovement:
    """The ledger line for a change already made to `stock` (in this transaction)."""
    balance = Stock.objects.filter(pk=stock.pk).values_list("quantity", flat=True).get()
    movement = StockMovement.objects.create(
        warehouse_id=stock.warehouse_id, item_id=stock.item_id, kind=kind, change=change, balance_after=balance,
        reason=reason, household=household, task=task, counterpart=counterpart, idempotency_key=idempotency_key,
        created_by=by, created_at=now)
    watch_threshold(stock, now)
    return movement


def _move(warehouse: Warehouse, item: SupplyItem, kind: str, change: int, *, by: User | None, reason: str,
          household: Household | None = None, now: dt.datetime | None = None) -> StockMovement:
    now = now or timezone.now()
    with transaction.atomic():
        stock = stock_row(warehouse, item)
        if change > 0:
            Stock.objects.filter(pk=stock.pk).update(quantity=F("quantity") + change, updated_at=now)
        else:
            take(stock, -change, now=now)
        return append(stock, kind, change, by=by, now=now, reason=reason, household=household)


def _reason(reason: str, *, required: bool = False) -> str:
    return clean_text(reason, "reason", 500, required=required)


def receive(warehouse: Warehouse, item: SupplyItem, quantity: int, *, by: User | None, reason: str = "") -> StockMovement:
    return _move(warehouse, item, MovementKind.RECEIVED, check_quantity(quantity), by=by, reason=_reason(reason))


def issue(warehouse: Warehouse, item: SupplyItem, quantity: int, *, by: User | None, reason: str) -> StockMovement:
    """Taken out for a use other than a household (a rescue team, a shelter): say what for."""
    return _move(warehouse, item, MovementKind.ISSUED, -check_quantity(quantity), by=by, reason=_reason(reason, required=True))


def distribute(warehouse: Warehouse, item: SupplyItem, quantity: int, *, household: Household, by: User | None,
               reason: str = "") -> StockMovement:
    return _move(warehouse, item, MovementKind.DISTRIBUTED, -check_quantity(quantity), by=by, reason=_reason(reason),
                 household=household)


def adjust(warehouse: Warehouse, item: SupplyItem, change: int, *, by: User | None, reason: str,
           now: dt.datetime | None = None) -> StockMovement:
    """A correction after a count (found more, or less: broken, expired, miscounted)."""
    if isinstance(change, bool) or not isinstance(change, int) or change == 0 or abs(change) > MAX_QUANTITY:
        raise ValidationError({"change": f"A whole number of units, not 0, at most {MAX_QUANTITY} either way."},
                              code=Code.INVALID_QUANTITY)
    return _move(warehouse, item, MovementKind.ADJUSTED, change, by=by, reason=_reason(reason, required=True), now=now)


def transfer(source: Warehouse, target: Warehouse, item: SupplyItem, quantity: int, *, by: User | None,
             reason: str = "") -> tuple[StockMovement, StockMovement]:
    quantity = check_quantity(quantity)
    if source.pk == target.pk:
        raise ValidationError({"to_warehouse_id": "Transfer to another warehouse."}, code=Code.SAME_WAREHOUSE)
    reason = _reason(reason)
    now = timezone.now()
    with transaction.atomic():
        # Rows in id order, so two opposite transfers at once cannot deadlock.
        rows = sorted([stock_row(source, item), stock_row(target, item)], key=lambda row: row.pk)
        list(Stock.objects.select_for_update().filter(pk__in=[r.pk for r in rows]).order_by("pk"))
        out_row, in_row = (rows[0], rows[1]) if rows[0].warehouse_id == source.pk else (rows[1], rows[0])
        take(out_row, quantity, now=now)
        out = append(out_row, MovementKind.TRANSFER_OUT, -quantity, by=by, now=now, reason=reason or f"调往{target.name}")
        Stock.objects.filter(pk=in_row.pk).update(quantity=F("quantity") + quantity, updated_at=now)
        into = append(in_row, MovementKind.TRANSFER_IN, quantity, by=by, now=now, reason=reason or f"来自{source.name}",
                      counterpart=out)
    return out, into


# --- thresholds -----------------------------------------------------------------------------
def set_low_threshold(warehouse: Warehouse, item: SupplyItem, threshold: int) -> Stock:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= MAX_QUANTITY:
        raise ValidationError({"threshold": f"From 0 (no alert) to {MAX_QUANTITY}."}, code=Code.INVALID_QUANTITY)
    with transaction.atomic():
        stock = stock_row(warehouse, item)
        Stock.objects.filter(pk=stock.pk).update(low_threshold=threshold)
        watch_threshold(stock, timezone.now())
        stock.refresh_from_db()
    return stock


def watch_threshold(stock: Stock, now: dt.datetime) -> None:
    """Tell the responsible staff once when what is free falls below the threshold; forget
    it once restocked, so the next shortage is told again. The conditional UPDATE makes
    "once" hold when two movements cross the line together."""
    current = Stock.objects.select_related("warehouse__area", "item").get(pk=stock.pk)
    if current.is_low:
        if Stock.objects.filter(pk=current.pk, low_alerted_at__isnull=True).update(low_alerted_at=now):
            _alert_low(current)
    elif current.low_alerted_at is not None:
        Stock.objects.filter(pk=current.pk).update(low_alerted_at=None)


def responsible_staff(area: Area) -> list[User]:
    """Staff holding a role on the warehouse's area or above it (who can restock it)."""
    return list(User.objects.filter(roles__area__path__in=area.ancestor_paths(), is_active=True,
                                    roles__role__in=[Role.COMMUNITY_ADMIN, Role.DISTRICT_COMMANDER, Role.GRID_WORKER])
                .distinct())


def _alert_low(stock: Stock) -> None:
    staff = responsible_staff(stock.warehouse.area)
    context = {"warehouse": stock.warehouse.name, "item": stock.item.name, "available": stock.available,
               "unit": stock.item.unit, "threshold": stock.low_threshold}
    notify_many(staff, kind="supplies.low_stock", template="resources.low_stock", context=context,
                data={"warehouseId": to_global_id("Warehouse", stock.warehouse_id), "itemId": to_global_id("SupplyItem", stock.item_id)},
                related=stock)
