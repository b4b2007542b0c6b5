"""Supplies (物资): the catalogue, warehouses, stock per warehouse and item, the append-only
ledger of every movement, and what tasks carry.

Stock is one row per (warehouse, item) holding the quantity on the shelf and the part of it
reserved for tasks; both move only by conditional UPDATEs that the database checks against
zero (resources.supplies), in the transaction that appends the ledger row saying why. The
ledger is never edited: a mistake is corrected by an ADJUSTED movement with a reason.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from community.geo import Located
from community.models import Area, Household
from volunteers.models import Task


class SupplyCategory(models.TextChoices):
    WATER = "WATER", "饮用水"
    FOOD = "FOOD", "食品"
    MEDICAL = "MEDICAL", "医疗用品"
    SHELTER = "SHELTER", "帐篷被褥"
    POWER = "POWER", "照明电源"
    TOOLS = "TOOLS", "救援工具"
    OTHER = "OTHER", "其他"


class SupplyItem(models.Model):
    """One kind of thing kept in stock, counted in whole units (箱, 瓶, 顶, 个)."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    unit = models.CharField(max_length=16, help_text="e.g. 箱")
    unit_en = models.CharField(max_length=16, blank=True, help_text="e.g. box")
    category = models.CharField(max_length=16, choices=SupplyCategory.choices, default=SupplyCategory.OTHER)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


class Warehouse(Located):
    """A store of supplies kept by a community or a subdistrict."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="warehouses")
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    address = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["area_id", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    item = models.ForeignKey(SupplyItem, on_delete=models.PROTECT, related_name="stock")
    quantity = models.IntegerField(default=0, help_text="On the shelf, reserved included.")
    reserved = models.IntegerField(default=0, help_text="Promised to tasks not yet done.")
    low_threshold = models.PositiveIntegerField(default=0, help_text="Alert staff when what is free falls below this.")
    low_alerted_at = models.DateTimeField(null=True, blank=True, help_text="Set when staff were alerted; cleared on restock.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["warehouse_id", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "item"], name="one_stock_row_per_warehouse_item"),
            # The last word on "never below zero": a racing movement the service did not stop
            # is refused by the database.
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_quantity_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0) & Q(reserved__lte=F("quantity")),
                                   name="stock_reserved_within_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} @ {self.warehouse_id}: {self.quantity}"

    @property
    def available(self) -> int:
        return self.quantity - self.reserved

    @property
    def is_low(self) -> bool:
        return self.low_threshold > 0 and self.available < self.low_threshold


class MovementKind(models.TextChoices):
    RECEIVED = "RECEIVED", "入库"
    ISSUED = "ISSUED", "出库"
    TRANSFER_OUT = "TRANSFER_OUT", "调出"
    TRANSFER_IN = "TRANSFER_IN", "调入"
    DISTRIBUTED = "DISTRIBUTED", "发放"
    ADJUSTED = "ADJUSTED", "盘点调整"


class AppendOnlyError(RuntimeError):
    pass


class StockMovement(models.Model):
    """One line of the ledger: `change` units (signed) of an item at a warehouse, and why."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    item = models.ForeignKey(SupplyItem, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    change = models.IntegerField(help_text="Positive in, negative out; never 0.")
    balance_after = models.IntegerField(help_text="The warehouse's quantity of the item after this movement.")
    reason = models.CharField(max_length=500, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="supplies_received")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    counterpart = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                       help_text="A transfer in: the transfer out it completes.")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["warehouse", "item", "created_at"]),
            models.Index(fields=["household", "item"]),
            models.Index(fields=["kind", "created_at"]),
        ]
        constraints = [models.CheckConstraint(condition=~Q(change=0), name="movement_changes_something")]

    def __str__(self) -> str:
        return f"{self.kind} {self.change:+d} {self.item_id} @ {self.warehouse_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The stock ledger is append-only; record an ADJUSTED movement instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The stock ledger is append-only.")


class DeliveryStatus(models.TextChoices):
    RESERVED = "RESERVED", "已预留"
    DISTRIBUTED = "DISTRIBUTED", "已发放"
    RELEASED = "RELEASED", "已释放"


class TaskSupply(models.Model):
    """What a task carries ("2 boxes of water to this household"): reserved when attached,
    distributed when the task is done, released when it is cancelled or the line removed."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="supplies")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(SupplyItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RESERVED)
    reserved_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    movement = models.OneToOneField(StockMovement, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "task supplies"
        ordering = ["task_id", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="task_supply_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.item_id} on task {self.task_id} ({self.status})"
