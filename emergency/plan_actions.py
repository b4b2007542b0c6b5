"""The actions a response plan may list, and the validation of each one's params.

    ALERT          alert fields (emergency.alerts.check_alert_data) with expires_in_minutes,
                   shelter_codes?: [facility codes] naming the shelters residents should go to, and
                   ladder?: {sms_after_seconds?, sms_at_once_for?: vulnerable|none} (the alert's
                   escalation ladder: push -> SMS, no voice rung; notifications/ladder.py)
    SAFETY_CHECK   {title?, welfare_after_minutes?, ladder?: {sms_after_seconds?, voice_after_seconds?,
                   voice_for?: vulnerable|all|none}} (the escalation ladder, notifications/ladder.py)
    MOBILISE       {level: STANDBY|CALL_IN, include_party_members?: bool, message?}
    SET_DISPATCH   dispatch parameters (volunteers.dispatch PARAMETER_RANGES), each a number
                   or {priority: number}, and pool_scope TASK_AREA|PLAN_AREA (mutual aid: the
                   plan area's volunteers may be offered any task in it); set while the area is
                   in the mode, cleared on leaving
    CREATE_TASKS   {target: HAZARD_POINTS|VULNERABLE_RESIDENTS, title, description?, priority?,
                    headcount?, required_skills?, deadline_minutes?, hazard_kinds?,
                    min_severity?, vulnerability_flags?}
    FACILITIES     {status: OPEN|CLOSED, kinds?: [SHELTER|MEDICAL|WATER|CHARGING], codes?: [facility codes]}:
                   the facilities of those kinds (or with those codes) in the switched area's
                   subtree; kinds default to SHELTER; closing skips a shelter people are in

check_actions(actions) returns the normalised list or raises one ValidationError naming
every problem of every action at once, as actions.<i>.params.<param> (snake_case here; the
API spells paths in camelCase: actions.2.params.welfareAfterMinutes) with code
invalid_plan_action (or the alert field's own code).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any, TypedDict

from django.core.exceptions import ValidationError

from community.models import VULNERABILITY_FLAGS, HazardKind, Severity
from core.errors import field_error
from notifications.ladder import ladder_problems
from resources.models import Facility, FacilityKind
from volunteers.dispatch.parameters import CHOICE_PARAMETERS, INTEGER_PARAMETERS, PARAMETER_RANGES
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


class Problems:
    """Every problem of one action's params, by param name (None: the params as a whole)."""

    def __init__(self) -> None:
        self.by_name: dict[str | None, list[ValidationError]] = {}

    def add(self, name: str | None, message: str, code: str = Code.INVALID_PLAN_ACTION) -> None:
        self.by_name.setdefault(name, []).append(ValidationError(message, code=code))

    def take(self, exc: ValidationError) -> None:
        """A field-keyed error from another check (the alert fields')."""
        for name, items in exc.error_dict.items():
            self.by_name.setdefault(name, []).extend(items)


def _only(params: Params, allowed: set[str], problems: Problems) -> None:
    for name in sorted(set(params) - allowed):
        problems.add(name, f"Unknown parameter; use {', '.join(sorted(allowed))}.")


def _int(params: Params, name: str, low: int, high: int, problems: Problems, default: int | None = None) -> int | None:
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(name, f"A whole number between {low} and {high}.")
        return default
    return value


def _text(params: Params, name: str, longest: int, problems: Problems, *, required: bool = False) -> str:
    value = params.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > longest:
        problems.add(name, f"Text of at most {longest} characters{' (required)' if required else ''}.")
        return ""
    return value.strip()


def _choices(params: Params, name: str, allowed: Collection[str], problems: Problems, *, many: bool = False,
             default: str | list[str] | None = None) -> Any:
    value: Any = params.get(name, default)  # JSON: one choice, or a list of them (many)
    if many and not isinstance(value, list):
        problems.add(name, "Give a list.")
        return default
    bad = [v for v in (value if many else [value]) if v not in allowed]
    if bad:
        problems.add(name, f"Use {', '.join(str(a) for a in allowed)}.")
        return default
    return value


def check_alert(params: Params, problems: Problems) -> Params:
    for name in ("expires", "onset"):
        if name in params:
            problems.add(name, "A plan gives expires_in_minutes, not a fixed time.")
    try:
        check_alert_data({k: v for k, v in params.items() if k not in ("expires", "onset", "shelter_codes", "ladder")})
    except ValidationError as exc:
        problems.take(exc)
    if "shelter_codes" in params:
        _facility_codes(params["shelter_codes"], "shelter_codes", problems, kinds=[FacilityKind.SHELTER])
    if "ladder" in params:
        _check_ladder(params["ladder"], "alert", problems)
    return params


def _check_ladder(value: object, message_class: str, problems: Problems) -> None:
    """The escalation ladder a step overrides (notifications/ladder.py): its class's keys only."""
    for key, message in ladder_problems(value, message_class).items():
        problems.add(f"ladder.{key}" if key else "ladder", message)


def _facility_codes(codes: object, name: str, problems: Problems, kinds: list[str] | None = None) -> list[str]:
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes) or len(codes) > 50:
        problems.add(name, "Give a list of at most 50 facility codes.")
        return []
    found = Facility.objects.filter(code__in=codes)
    if kinds:
        found = found.filter(kind__in=kinds)
    known = set(found.values_list("code", flat=True))
    what = "shelter" if kinds == [FacilityKind.SHELTER] else "facility"
    for code in [c for c in codes if c not in known]:
        problems.add(name, f"No {what} with code {code!r}.")
    return [c for c in dict.fromkeys(codes) if c in known]


def check_facilities(params: Params, problems: Problems) -> Params:
    _only(params, {"status", "kinds", "codes"}, problems)
    out: Params = {"status": _choices(params, "status", ("OPEN", "CLOSED"), problems),
                   "kinds": _choices(params, "kinds", FacilityKind.values, problems, many=True, default=[]),
                   "codes": _facility_codes(params.get("codes", []), "codes", problems)}
    if not out["kinds"] and not out["codes"]:
        out["kinds"] = [FacilityKind.SHELTER.value]
    return out


def check_safety_check(params: Params, problems: Problems) -> Params:
    _only(params, {"title", "welfare_after_minutes", "ladder"}, problems)
    out: Params = {"title": _text(params, "title", 100, problems),
                   "welfare_after_minutes": _int(params, "welfare_after_minutes", 5, 7 * 24 * 60, problems, 60)}
    if "ladder" in params:
        # The escalation ladder for this plan's check (notifications/ladder.py): any of
        # sms_after_seconds, voice_after_seconds, voice_for, sms_at_once_for.
        _check_ladder(params["ladder"], "safety_check", problems)
        out["ladder"] = dict(params["ladder"]) if isinstance(params["ladder"], dict) else {}
    return out


def check_mobilise(params: Params, problems: Problems) -> Params:
    _only(params, {"level", "include_party_members", "message"}, problems)
    include = params.get("include_party_members", True)
    if not isinstance(include, bool):
        problems.add("include_party_members", "true or false.")
    return {"level": _choices(params, "level", MobilisationLevel.values, problems), "include_party_members": include,
            "message": _text(params, "message", 200, problems)}


def check_set_dispatch(params: Params, problems: Problems) -> Params:
    if not params:
        problems.add(None, "Give at least one dispatch parameter.")
    _only(params, set(PARAMETER_RANGES) | set(CHOICE_PARAMETERS), problems)
    out: dict[str, Any] = {}
    for name, raw in params.items():
        if name in CHOICE_PARAMETERS:
            out[name] = _choices(params, name, CHOICE_PARAMETERS[name], problems)
            continue
        if name not in PARAMETER_RANGES:
            continue
        low, high = PARAMETER_RANGES[name]
        values = raw if isinstance(raw, dict) else {None: raw}
        if isinstance(raw, dict) and (not raw or set(raw) - set(PRIORITIES)):
            problems.add(name, "Per priority: ROUTINE, URGENT, LIFE_SAFETY.")
            continue
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not low <= v <= high
               for v in values.values()):
            problems.add(name, f"Between {low:g} and {high:g}.")
            continue
        cast = int if name in INTEGER_PARAMETERS else float
        out[name] = {p: cast(v) for p, v in raw.items()} if isinstance(raw, dict) else cast(raw)
    return out


def check_create_tasks(params: Params, problems: Problems) -> Params:
    _only(params, {"target", "title", "description", "priority", "headcount", "required_skills", "deadline_minutes",
                   "hazard_kinds", "min_severity", "vulnerability_flags"}, problems)
    target = _choices(params, "target", TARGETS, problems)
    out: Params = {
        "target": target, "title": _text(params, "title", 100, problems, required=True),
        "description": _text(params, "description", 2000, problems),
        "priority": _choices(params, "priority", PRIORITIES, problems, default="URGENT"),
        "headcount": _int(params, "headcount", 1, 20, problems, 1),
        "deadline_minutes": _int(params, "deadline_minutes", 10, 7 * 24 * 60, problems),
        "required_skills": _skills(params.get("required_skills", []), problems),
    }
    if target == "HAZARD_POINTS":
        out["hazard_kinds"] = _choices(params, "hazard_kinds", HazardKind.values, problems, many=True, default=[])
        out["min_severity"] = _int(params, "min_severity", min(Severity.values), max(Severity.values), problems, 1)
    elif target == "VULNERABLE_RESIDENTS":
        out["vulnerability_flags"] = _choices(params, "vulnerability_flags", VULNERABILITY_FLAGS, problems, many=True,
                                              default=["elderly_living_alone"]) or ["elderly_living_alone"]
    return out


def _skills(codes: object, problems: Problems) -> list[str]:
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        problems.add("required_skills", "Give a list of skill codes.")
        return []
    known = set(Skill.objects.filter(code__in=codes).values_list("code", flat=True))
    for code in [c for c in codes if c not in known]:
        problems.add("required_skills", f"Unknown skill {code!r}.")
    return [c for c in dict.fromkeys(codes) if c in known]


CHECKERS: dict[str, Callable[[Params, Problems], Params]] = {
    PlanAction.ALERT: check_alert, PlanAction.SAFETY_CHECK: check_safety_check, PlanAction.MOBILISE: check_mobilise,
    PlanAction.SET_DISPATCH: check_set_dispatch, PlanAction.CREATE_TASKS: check_create_tasks,
    PlanAction.FACILITIES: check_facilities,
}


def check_actions(actions: object) -> list[CheckedAction]:
    """Every problem of every action in one error, keyed actions.<i>.type,
    actions.<i>.params or actions.<i>.params.<name> (the API spells them in camelCase)."""
    if not isinstance(actions, list) or len(actions) > MAX_ACTIONS:
        raise field_error("actions", f"Give a list of at most {MAX_ACTIONS} actions.", Code.INVALID_PLAN_ACTION)
    errors: dict[str, list[ValidationError]] = {}
    out: list[CheckedAction] = []
    for index, action in enumerate(actions):
        kind = getattr(action.get("type"), "value", action.get("type")) if isinstance(action, dict) else None
        params = action.get("params") if isinstance(action, dict) else None
        if kind not in PlanAction.values:
            errors.setdefault(f"actions.{index}.type", []).append(ValidationError("Unknown action.", code=Code.INVALID_PLAN_ACTION))
        if not isinstance(params, dict):
            errors.setdefault(f"actions.{index}.params", []).append(ValidationError("Give an object.", code=Code.INVALID_PLAN_ACTION))
        if kind not in PlanAction.values or not isinstance(params, dict):
            continue
        problems = Problems()
        checked = CHECKERS[PlanAction(kind)](params, problems)
        for name, items in problems.by_name.items():
            errors.setdefault(f"actions.{index}.params" + (f".{name}" if name else ""), []).extend(items)
        out.append({"type": kind, "params": checked})
    if errors:
        raise ValidationError(errors)
    return out
