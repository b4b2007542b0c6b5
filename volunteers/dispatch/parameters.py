"""Dispatch parameters: how long people have to answer, how many offers per free place, how
far to look and how to rank — per priority, per area, per mode.

Where a value comes from, for a task in area A with priority P:

1. settings.DISPATCH_DEFAULTS[P];
2. overrides set on A or any ancestor (set_area_dispatch_override), nearest last: each key
   an override names replaces the value above it (a district may set the radius and a
   community the answer time). A value is a number for every priority, or {priority: number};
3. the answer time, unless an override set it explicitly, is multiplied by the factor of A's
   effective mode (settings.DISPATCH_MODE_ANSWER_FACTOR: EMERGENCY x0.5, STANDBY x0.75), and
   never drops below DISPATCH_MIN_ANSWER_SECONDS.

Each wave reads them afresh, so an override set during an emergency applies from the next
wave of every running task; offers already out keep their deadlines.

Who may be offered a task is its area's people (pool.py): volunteers serving in the task's
area, or in its pool_area when staff who manage a wider area widened it. One override key
widens it too — mutual aid decided in advance, by a plan:

    pool_scope  "TASK_AREA" (the default) or "PLAN_AREA": volunteers serving anywhere in the
                area the override is set on (a plan's SET_DISPATCH sets it on the plan's
                area, whose MANAGE_PLANS its author holds) may be offered every task below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from community.models import Area, Mode, User
from core.errors import ValidationError

from ..error_codes import VolunteersErrorCode as Code
from ..models import AreaDispatchOverride, Task, TaskPriority

# name -> (lowest, highest) accepted in an override.
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "answer_seconds": (30, 86_400),
    "wave_factor": (1.0, 10.0),
    "radius_start_m": (100, 50_000),
    "radius_step_m": (100, 50_000),
    "radius_max_m": (100, 50_000),
    "ranking_band_m": (0, 10_000),
}
INTEGER_PARAMETERS = {"answer_seconds", "radius_start_m", "radius_step_m", "radius_max_m", "ranking_band_m"}
# name -> the values accepted (not per priority: a pool is a pool).
CHOICE_PARAMETERS: dict[str, tuple[str, ...]] = {"pool_scope": ("TASK_AREA", "PLAN_AREA")}


@dataclass(frozen=True)
class DispatchParameters:
    priority: str
    answer_seconds: int
    wave_factor: float
    radius_start_m: int
    radius_step_m: int
    radius_max_m: int
    ranking_band_m: int
    mode: str = Mode.NORMAL
    overridden: tuple[str, ...] = field(default=())  # keys an area override set
    pool_area_id: int | None = None  # an override's area whose volunteers all may be offered (pool_scope)

    def wave_size(self, places: int) -> int:
        """Offers wanted out at once for `places` free places."""
        return math.ceil(places * self.wave_factor) if places > 0 else 0

    def next_radius(self, radius_m: int) -> int | None:
        """The next step out from `radius_m`, or None at the maximum."""
        if radius_m >= self.radius_max_m:
            return None
        return min(self.radius_max_m, radius_m + self.radius_step_m)


# An override's value as stored: one number for every priority, or {priority: number}.
RawParameter = float | dict[str, float]


def _priority(value: str) -> str:
    value = getattr(value, "value", value)
    if value not in TaskPriority.values:
        raise ValidationError({"priority": "Use ROUTINE, URGENT or LIFE_SAFETY."}, code=Code.INVALID_PRIORITY)
    return value


def _value_for(raw: RawParameter, priority: str) -> float | None:
    return raw.get(priority) if isinstance(raw, dict) else raw


def dispatch_parameters(task_or_area: Task | Area, priority: str | None = None) -> DispatchParameters:
    """The parameters in force for a task (its own priority unless given) or for an area."""
    area = task_or_area.area if isinstance(task_or_area, Task) else task_or_area
    if priority is None and isinstance(task_or_area, Task):
        priority = task_or_area.priority
    priority = _priority(priority or TaskPriority.ROUTINE)
    values = dict(settings.DISPATCH_DEFAULTS[priority])
    overridden: list[str] = []
    pool_area_id: int | None = None
    rows = AreaDispatchOverride.objects.filter(area__path__in=area.ancestor_paths()).order_by("area__depth")
    for row in rows:
        for name, raw in row.params.items():
            if name == "pool_scope":
                pool_area_id = row.area_id if raw == "PLAN_AREA" else None
                overridden.append(name)
                continue
            value = _value_for(raw, priority)
            if name in PARAMETER_RANGES and value is not None:
                values[name] = value
                overridden.append(name)
    mode = area.effective_mode()
    if "answer_seconds" not in overridden:
        factor = settings.DISPATCH_MODE_ANSWER_FACTOR.get(mode, 1.0)
        values["answer_seconds"] = max(settings.DISPATCH_MIN_ANSWER_SECONDS, round(values["answer_seconds"] * factor))
    values["radius_max_m"] = max(values["radius_max_m"], values["radius_start_m"])
    return DispatchParameters(
        priority=priority, mode=mode, overridden=tuple(dict.fromkeys(overridden)),
        answer_seconds=int(values["answer_seconds"]), wave_factor=float(values["wave_factor"]),
        radius_start_m=int(values["radius_start_m"]), radius_step_m=int(values["radius_step_m"]),
        radius_max_m=int(values["radius_max_m"]), ranking_band_m=int(values["ranking_band_m"]),
        pool_area_id=pool_area_id,
    )


def check_choice_param(name: str, raw: object) -> str:
    allowed = CHOICE_PARAMETERS[name]
    if raw not in allowed:
        raise ValidationError({name: f"Use {' or '.join(allowed)}."}, code=Code.INVALID_DISPATCH_PARAMETER)
    return str(raw)


def _check_param(name: str, raw: object) -> RawParameter | str:
    if name in CHOICE_PARAMETERS:
        return check_choice_param(name, raw)
    if name not in PARAMETER_RANGES:
        raise ValidationError({name: f"Unknown dispatch parameter; use {', '.join([*PARAMETER_RANGES, *CHOICE_PARAMETERS])}."},
                              code=Code.INVALID_DISPATCH_PARAMETER)
    if isinstance(raw, dict):
        unknown = set(raw) - set(TaskPriority.values)
        if unknown or not raw:
            raise ValidationError({name: "Per priority: ROUTINE, URGENT, LIFE_SAFETY."}, code=Code.INVALID_DISPATCH_PARAMETER)
        return {p: _check_number(name, v) for p, v in raw.items()}
    return _check_number(name, raw)


def _check_number(name: str, raw: object) -> float:
    low, high = PARAMETER_RANGES[name]
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or not low <= raw <= high:
        raise ValidationError({name: f"Between {low:g} and {high:g}."}, code=Code.INVALID_DISPATCH_PARAMETER)
    return int(raw) if name in INTEGER_PARAMETERS else float(raw)


def set_area_dispatch_override(area: Area, *, by: User | None = None, reason: str = "",
                               **params: object) -> AreaDispatchOverride:
    """Replace `area`'s override with `params` (any of PARAMETER_RANGES, each a number or
    {priority: number}, and pool_scope); it applies to the area and everything below it
    until cleared.

        set_area_dispatch_override(district, answer_seconds=120, radius_max_m={"URGENT": 8000})
    """
    if not params:
        raise ValidationError("Give at least one parameter, or clear the override.", code=Code.INVALID_DISPATCH_PARAMETER)
    clean = {name: _check_param(name, raw) for name, raw in params.items()}
    with transaction.atomic():
        row, _ = AreaDispatchOverride.objects.update_or_create(
            area=area, defaults={"params": clean, "reason": (reason or "")[:500], "set_by": by, "set_at": timezone.now()},
        )
    return row


def clear_area_dispatch_override(area: Area) -> bool:
    """Remove `area`'s own override (ancestors' stay); True if there was one."""
    deleted, _ = AreaDispatchOverride.objects.filter(area=area).delete()
    return bool(deleted)
