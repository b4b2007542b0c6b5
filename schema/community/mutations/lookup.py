"""Global ID -> row, or a typed NOT_FOUND error naming the input field."""

from __future__ import annotations

from community.error_codes import CommunityErrorCode
from community.models import (
    Area,
    EmergencyContact,
    HazardPoint,
    Household,
    Resident,
    ResidentReport,
)
from core.errors import field_error

from ...core.types import decode_id

_MODELS = {
    "Area": (Area, ()),
    "Resident": (Resident, ("grid", "household", "user")),
    "Household": (Household, ("grid",)),
    "EmergencyContact": (EmergencyContact, ("resident__grid", "resident__user")),
    "HazardPoint": (HazardPoint, ("grid",)),
    "ResidentReport": (ResidentReport, ("grid", "reporter")),
}


def fetch(type_name: str, global_id: str | None, field: str):
    """The row named by `global_id`, or None when the ID is None."""
    if global_id is None:
        return None
    model, related = _MODELS[type_name]
    row = model.objects.select_related(*related).filter(pk=decode_id(global_id, type_name, field)).first()
    if row is None:
        raise field_error(field, f"No such {type_name}.", CommunityErrorCode.NOT_FOUND)
    return row
