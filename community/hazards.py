"""Hazard point services: create, update, record an inspection (which reschedules the next)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import field_error, merge_errors
from core.text import clean_text

from .error_codes import CommunityErrorCode
from .grids import check_place_in_grid, outside_shape, require_grid_for
from .models import Area, HazardKind, HazardPoint, Inspection, InspectionResult, Severity, User
from .validation import clean_positive_int

MAX_INTERVAL_DAYS = 3650

_V = TypeVar("_V")


def _enum_value(value: object, choices: Iterable[_V], field: str, code: str = CommunityErrorCode.INVALID) -> _V:
    value = getattr(value, "value", value)
    for choice in choices:
        if value == choice:
            return choice
    raise field_error(field, "Unknown value.", code)


def check_hazard_data(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    cleaners: dict[str, Callable[[Any], object]] = {
        "name": lambda v: clean_text(v, "name", 100, required=True),
        "kind": lambda v: _enum_value(v, HazardKind.values, "kind"),
        "severity": lambda v: _enum_value(int(getattr(v, "value", v)), Severity.values, "severity"),
        "address": lambda v: clean_text(v, "address", 255),
        "description": lambda v: clean_text(v, "description", 4000),
        "inspection_interval_days": lambda v: clean_positive_int(v, "inspection_interval_days", 1, MAX_INTERVAL_DAYS),
        "is_active": bool,
    }
    errors: list[ValidationError] = []
    if not partial:
        for required in ("name", "kind"):
            if data.get(required) in (None, ""):
                errors.append(field_error(required, "This field is required.", CommunityErrorCode.REQUIRED))
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in cleaners:
            errors.append(field_error(key, "You may not set this field.", CommunityErrorCode.INVALID))
            continue
        if value is None and partial:
            continue
        try:
            out[key] = cleaners[key](value)
        except ValidationError as exc:
            errors.append(exc)
    merge_errors(errors)
    return out


def resolve_hazard_grid(grid: Area | None, location: tuple[float, float]) -> Area:
    """The grid staff chose (the point must lie in its shape), or the one the point is in."""
    return check_place_in_grid(grid, location) if grid is not None else require_grid_for(*location)


def do_create_hazard_point(
    *, by: User, grid: Area, location: tuple[float, float], data: dict[str, Any], first_due: dt.datetime | None = None
) -> HazardPoint:
    values = check_hazard_data(data, partial=False)
    check_place_in_grid(grid, location)
    point = HazardPoint(grid=grid, created_by=by, **values)
    point.set_location(*location)
    # A new point is inspected within its interval, or by `first_due` if staff say so.
    point.next_inspection_due = first_due or timezone.now() + dt.timedelta(days=point.inspection_interval_days)
    point.save()
    return point


def do_update_hazard_point(
    point: HazardPoint, *, data: dict[str, Any], location: tuple[float, float] | None = None, grid: Area | None = None
) -> HazardPoint:
    values = check_hazard_data(data, partial=True)
    with transaction.atomic():
        locked = HazardPoint.objects.select_for_update().get(pk=point.pk)
        for key, value in values.items():
            setattr(locked, key, value)
        if location is not None:
            locked.set_location(*location)
        if grid is not None:
            locked.grid = check_place_in_grid(grid, locked.point)
        elif location is not None and outside_shape(locked.grid, *location):
            locked.grid = require_grid_for(*location)  # moved out of its grid: the grid follows
        if "inspection_interval_days" in values:
            locked.schedule_next(locked.last_inspected_at or locked.created_at)
        locked.save()
    return locked


def do_record_inspection(
    point: HazardPoint,
    *,
    by: User,
    result: str,
    findings: str = "",
    severity_after: int | None = None,
    inspected_at: dt.datetime | None = None,
) -> Inspection:
    """Record an inspection; the point's next due date moves to inspected_at + interval."""
    errors: list[ValidationError] = []
    now = timezone.now()
    inspected_at = inspected_at or now
    try:
        result = _enum_value(result, InspectionResult.values, "result")
    except ValidationError as exc:
        errors.append(exc)
    try:
        findings = clean_text(findings, "findings", 4000, required=result != InspectionResult.OK)
    except ValidationError as exc:
        errors.append(exc)
    if severity_after is not None:
        try:
            severity_after = _enum_value(int(getattr(severity_after, "value", severity_after)), Severity.values, "severity_after")
        except ValidationError as exc:
            errors.append(exc)
    if inspected_at > now + dt.timedelta(minutes=5):
        errors.append(field_error("inspected_at", "An inspection cannot be in the future.", CommunityErrorCode.INVALID))
    merge_errors(errors)
    with transaction.atomic():
        locked = HazardPoint.objects.select_for_update().get(pk=point.pk)
        inspection = Inspection.objects.create(
            hazard_point=locked, inspected_by=by, inspected_at=inspected_at,
            result=result, findings=findings, severity_after=severity_after,
        )
        if locked.last_inspected_at is None or inspected_at >= locked.last_inspected_at:
            locked.last_inspected_at = inspected_at
            locked.schedule_next(inspected_at)
        if severity_after is not None:
            locked.severity = severity_after
        locked.save()
    point.refresh_from_db()
    return inspection
