"""Resources: facilities (shelters and other emergency points) and supplies."""

from .facilities import (
    Facility,
    FacilityEvent,
    FacilityEventKind,
    FacilityKind,
    FacilityStatus,
    ShelterStay,
)
from .supplies import (
    AppendOnlyError,
    DeliveryStatus,
    MovementKind,
    Stock,
    StockMovement,
    SupplyCategory,
    SupplyItem,
    TaskSupply,
    Warehouse,
)

__all__ = [
    "AppendOnlyError",
    "DeliveryStatus",
    "Facility",
    "FacilityEvent",
    "FacilityEventKind",
    "FacilityKind",
    "FacilityStatus",
    "MovementKind",
    "ShelterStay",
    "Stock",
    "StockMovement",
    "SupplyCategory",
    "SupplyItem",
    "TaskSupply",
    "Warehouse",
]
