"""The actions a response plan may list, and the validation of each one's params.

    ALERT          alert fields (emergency.alerts.check_alert_data) with expires_in_minutes, and
                   shelter_codes?: [facility codes] naming the shelters residents should go to
    SAFETY_CHECK   {title?, welfare_after_minutes?}
    MOBILISE       {level: STANDBY|CALL_IN, include_party_members?: bool, message?}
    SET_DISPATCH   dispatch parameters (volunteers.dispatch PARAMETER_RANGES), each a number
                   or {priority: number}; set while the area is in the mode, cleared on leaving
    CREATE_TASKS   {target: HAZARD_POINTS|VULNERABLE_RESIDENTS, title, description?, priority?,
                    headcount?, required_skills?, deadline_minutes?, hazard_kinds?,
                    min_severity?, vulnerability_flags?}
    FACILITIES     {status: OPEN|CLOSED, kinds?: [SHELTER|MEDICAL|WATER|CHARGING], codes?: [facility codes]}:
                   the facilities of those kinds (or with those codes) in the switched area's
                   subtree; kinds default to SHELTER; closing skips a shelter people are in

check_actions(actions) returns the normalised list or raises one ValidationError naming
every problem as actions.<i>.<param> with code invalid_plan_action (or the field's own code).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any, TypedDict

from django.core.exceptions import ValidationError

from community.models import VULNERABILITY_FLAGS, HazardKind, Severity
from core.errors import field_error
from resources.models import Facility, FacilityKind
from volunteers.dispatch.parameters import INTEGER_PARAMETERS, PARAMETER_RANGES
from volunteers.models import Skill

from .alerts import check_alert_data
from .error_codes import EmergencyErrorCode as Code
from .models import MobilisationLevel, PlanAction

MAX_ACTIONS = 20
PRIORITIES = ("ROUTINE", "URGENT", "LIFE_SAFETY")
TARGETS = ("HAZARD_POINTS", "VULNERABLE_RESIDENTS")

Params = dict[str, Any]  # an action's parameters, as JSON


class CheckedAction(TypedDict):
    type: str
    params: Params


def _bad(name: str, message: str) -> ValidationError:
    return field_error(name, message, Code.INVALID_PLAN_ACTION)


def _only(params: Params, allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise _bad(unknown[0], f"Unknown parameter; use {', '.join(sorted(allowed))}.")


def _int(params: Params, name: str, low: int, high: int, default: int | None = None) -> int | None:
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(name, f"A whole number between {low} and {high}.")
    return value


def _text(params: Params, name: str, longest: int, *, required: bool = False) -> str:
    value = params.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > longest:
        raise _bad(name, f"Text of at most {longest} characters{' (required)' if required else ''}.")
    return value.strip()


def _choices(params: Params, name: str, allowed: Collection[str], *, many: bool = False,
             default: str | list[str] | None = None) -> Any:
    value: Any = params.get(name, default)  # JSON: one choice, or a list of them (many)
    values = value if many else [value]
    if many and not isinstance(value, list):
        raise _bad(name, "Give a list.")
    for v in values:
        if v not in allowed:
            raise _bad(name, f"Use {', '.join(str(a) for a in allowed)}.")
    return value


def check_alert(params: Params) -> Params:
    if "expires" in params or "onset" in params:
        raise _bad("expires", "A plan gives expires_in_minutes, not a fixed time.")
    data = dict(params)
    codes = data.pop("shelter_codes", None)
    check_alert_data(data)
    if codes is not None:
        _facility_codes(codes, "shelter_codes", kinds=[FacilityKind.SHELTER])
    return params


def _facility_codes(codes: object, name: str, kinds: list[str] | None = None) -> list[str]:
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes) or len(codes) > 50:
        raise _bad(name, "Give a list of at most 50 facility codes.")
    found = Facility.objects.filter(code__in=codes)
    if kinds:
        found = found.filter(kind__in=kinds)
    known = set(found.values_list("code", flat=True))
    missing = [c for c in codes if c not in known]
    if missing:
        raise _bad(name, f"No {'shelter' if kinds == [FacilityKind.SHELTER] else 'facility'} with code {missing[0]!r}.")
    return list(dict.fromkeys(codes))


def check_facilities(params: Params) -> Params:
    _only(params, {"status", "kinds", "codes"})
    out: Params = {"status": _choices(params, "status", ("OPEN", "CLOSED")),
                   "kinds": _choices(params, "kinds", FacilityKind.values, many=True, default=[]),
                   "codes": _facility_codes(params.get("codes", []), "codes")}
    if not out["kinds"] and not out["codes"]:
        out["kinds"] = [FacilityKind.SHELTER.value]
    return out


def check_safety_check(params: Params) -> Params:
    _only(params, {"title", "welfare_after_minutes"})
    return {"title": _text(params, "title", 100), "welfare_after_minutes": _int(params, "welfare_after_minutes", 5, 7 * 24 * 60, 60)}


def check_mobilise(params: Params) -> Params:
    _only(params, {"level", "include_party_members", "message"})
    include = params.get("include_party_members", True)
    if not isinstance(include, bool):
        raise _bad("include_party_members", "true or false.")
    return {"level": _choices(params, "level", MobilisationLevel.values), "include_party_members": include,
            "message": _text(params, "message", 200)}


def check_set_dispatch(params: Params) -> Params:
    if not params:
        raise _bad("params", "Give at least one dispatch parameter.")
    _only(params, set(PARAMETER_RANGES))
    out: dict[str, Any] = {}
    for name, raw in params.items():
        low, high = PARAMETER_RANGES[name]
        values = raw if isinstance(raw, dict) else {None: raw}
        if isinstance(raw, dict) and (not raw or set(raw) - set(PRIORITIES)):
            raise _bad(name, "Per priority: ROUTINE, URGENT, LIFE_SAFETY.")
        for value in values.values():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not low <= value <= high:
                raise _bad(name, f"Between {low:g} and {high:g}.")
        cast = int if name in INTEGER_PARAMETERS else float
        out[name] = {p: cast(v) for p, v in raw.items()} if isinstance(raw, dict) else cast(raw)
    return out


def check_create_tasks(params: Params) -> Params:
    _only(params, {"target", "title", "description", "priority", "headcount", "required_skills", "deadline_minutes",
                   "hazard_kinds", "min_severity", "vulnerability_flags"})
    target = _choices(params, "target", TARGETS)
    out: Params = {
        "target": target, "title": _text(params, "title", 100, required=True),
        "description": _text(params, "description", 2000),
        "priority": _choices(params, "priority", PRIORITIES, default="URGENT"),
        "headcount": _int(params, "headcount", 1, 20, 1), "deadline_minutes": _int(params, "deadline_minutes", 10, 7 * 24 * 60),
        "required_skills": _skills(params.get("required_skills", [])),
    }
    if target == "HAZARD_POINTS":
        out["hazard_kinds"] = _choices(params, "hazard_kinds", HazardKind.values, many=True, default=[])
        out["min_severity"] = _int(params, "min_severity", min(Severity.values), max(Severity.values), 1)
    else:
        out["vulnerability_flags"] = _choices(params, "vulnerability_flags", VULNERABILITY_FLAGS, many=True,
                                              default=["elderly_living_alone"]) or ["elderly_living_alone"]
    return out


def _skills(codes: object) -> list[str]:
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise _bad("required_skills", "Give a list of skill codes.")
    known = set(Skill.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = [c for c in codes if c not in known]
    if missing:
        raise _bad("required_skills", f"Unknown skill {missing[0]!r}.")
    return list(dict.fromkeys(codes))


CHECKERS: dict[str, Callable[[Params], Params]] = {
    PlanAction.ALERT: check_alert, PlanAction.SAFETY_CHECK: check_safety_check, PlanAction.MOBILISE: check_mobilise,
    PlanAction.SET_DISPATCH: check_set_dispatch, PlanAction.CREATE_TASKS: check_create_tasks,
    PlanAction.FACILITIES: check_facilities,
}


def check_actions(actions: object) -> list[CheckedAction]:
    if not isinstance(actions, list) or len(actions) > MAX_ACTIONS:
        raise field_error("actions", f"Give a list of at most {MAX_ACTIONS} actions.", Code.INVALID_PLAN_ACTION)
    errors: dict[str, list[ValidationError]] = {}
    out: list[CheckedAction] = []
    for index, action in enumerate(actions):
        kind = getattr(action.get("type"), "value", action.get("type")) if isinstance(action, dict) else None
        params = action.get("params") if isinstance(action, dict) else None
        if kind not in PlanAction.values:
            errors.setdefault(f"actions.{index}.type", []).append(ValidationError("Unknown action.", code=Code.INVALID_PLAN_ACTION))
            continue
        if not isinstance(params, dict):
            errors.setdefault(f"actions.{index}.params", []).append(ValidationError("Give an object.", code=Code.INVALID_PLAN_ACTION))
            continue
        try:
            out.append({"type": kind, "params": CHECKERS[PlanAction(kind)](params)})
        except ValidationError as exc:
            for field, items in exc.error_dict.items():
                errors.setdefault(f"actions.{index}.params.{field}", []).extend(items)
    if errors:
        raise ValidationError(errors)
    return out
