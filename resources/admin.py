"""Admin: administrators keep the supplies catalogue; everything else is for looking things
up. Stock, check-ins and facility status change through the services and the API, so the
ledger, the occupancy counters and their history stay consistent — those screens are
read-only."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import (
    Facility,
    FacilityEvent,
    ShelterStay,
    Stock,
    StockMovement,
    SupplyItem,
    TaskSupply,
    Warehouse,
)


@admin.register(SupplyItem)
class SupplyItemAdmin(admin.ModelAdmin[SupplyItem]):
    list_display = ("code", "name", "unit", "category", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name", "name_en")


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Facility)
class FacilityAdmin(ReadOnly, admin.ModelAdmin[Facility]):
    list_display = ("code", "name", "kind", "area", "status", "occupancy", "capacity")
    list_filter = ("kind", "status")
    search_fields = ("code", "name")


@admin.register(ShelterStay)
class ShelterStayAdmin(ReadOnly, admin.ModelAdmin[ShelterStay]):
    list_display = ("facility", "name", "is_vulnerable", "checked_in_at", "checked_out_at")


@admin.register(FacilityEvent)
class FacilityEventAdmin(ReadOnly, admin.ModelAdmin[FacilityEvent]):
    list_display = ("facility", "kind", "at", "delta", "occupancy")


@admin.register(Warehouse)
class WarehouseAdmin(ReadOnly, admin.ModelAdmin[Warehouse]):
    list_display = ("code", "name", "area", "is_active")


@admin.register(Stock)
class StockAdmin(ReadOnly, admin.ModelAdmin[Stock]):
    list_display = ("warehouse", "item", "quantity", "reserved", "low_threshold", "low_alerted_at")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnly, admin.ModelAdmin[StockMovement]):
    list_display = ("created_at", "warehouse", "item", "kind", "change", "balance_after", "reason")
    list_filter = ("kind",)


@admin.register(TaskSupply)
class TaskSupplyAdmin(ReadOnly, admin.ModelAdmin[TaskSupply]):
    list_display = ("task", "item", "quantity", "warehouse", "household", "status")
