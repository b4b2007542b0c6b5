"""The one place that answers "may this user do X in area A".

Staff roles are held over an area's subtree (RoleAssignment). A role grants a set of actions;
a user may perform an action in area A when one of their roles granting it is held on A or
on an ancestor of A. Scope checks are path-prefix tests on the materialised path, so a list
can be filtered in SQL with `scope_q(...)` instead of loading areas into Python.

Residents and volunteers hold no roles; they see their own records and what is addressed to
them, which each app enforces with `is_self`-style checks next to its data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from django.db.models import Q

from .models import Area, Role, RoleAssignment, User


class Action(StrEnum):
    VIEW_AREA = "view_area"
    VIEW_PEOPLE = "view_people"  # residents/volunteers lists, masked personal data
    VIEW_PERSONAL_DATA = "view_personal_data"  # phones, addresses, care notes, vulnerability
    MANAGE_PEOPLE = "manage_people"  # register/edit residents, approve volunteers
    MANAGE_TASKS = "manage_tasks"
    MANAGE_HAZARDS = "manage_hazards"
    SWITCH_MODE = "switch_mode"
    MANAGE_PLANS = "manage_plans"
    ISSUE_ALERTS = "issue_alerts"
    VIEW_REPORTS = "view_reports"
    MANAGE_AREAS = "manage_areas"  # draw boundaries (not grid workers: a grid is drawn from above)
    MANAGE_RESOURCES = "manage_resources"  # facilities, shelter check-ins, stock, teams
    VIEW_ACCESS_LOG = "view_access_log"  # who read whose personal data (privacy/, issue 21)


_STAFF_BASE = {
    Action.VIEW_AREA,
    Action.VIEW_PEOPLE,
    Action.VIEW_PERSONAL_DATA,
    Action.MANAGE_PEOPLE,
    Action.MANAGE_TASKS,
    Action.MANAGE_HAZARDS,
    Action.VIEW_REPORTS,
    Action.MANAGE_RESOURCES,
}

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.GRID_WORKER: frozenset(_STAFF_BASE),
    Role.COMMUNITY_ADMIN: frozenset(
        _STAFF_BASE | {Action.SWITCH_MODE, Action.MANAGE_PLANS, Action.ISSUE_ALERTS, Action.MANAGE_AREAS,
                       Action.VIEW_ACCESS_LOG}
    ),
    # Commanders coordinate; they see people masked unless they also hold a closer role.
    Role.DISTRICT_COMMANDER: frozenset(
        (_STAFF_BASE - {Action.VIEW_PERSONAL_DATA})
        | {Action.SWITCH_MODE, Action.MANAGE_PLANS, Action.ISSUE_ALERTS, Action.MANAGE_AREAS}
    ),
    # An auditor sees areas and the access log of its subtree, and no person's data.
    Role.AUDITOR: frozenset({Action.VIEW_AREA, Action.VIEW_ACCESS_LOG}),
}

# Areas a non-staff user belongs to (a resident's grid, a volunteer's service areas).
# Apps register providers so this module need not import them.
_home_area_providers: list[Callable[[User], Iterable[str]]] = []


def register_home_area_provider(provider: Callable[[User], Iterable[str]]) -> None:
    """provider(user) -> area paths the user belongs to (for seeing their areas' modes)."""
    if provider not in _home_area_providers:
        _home_area_providers.append(provider)


def _role_paths(user: User) -> dict[str, list[str]]:
    """{action: [area paths where the user holds a role granting it]}, cached on the user."""
    cached: dict[str, list[str]] | None = getattr(user, "_linli_role_paths", None)
    if cached is not None:
        return cached
    result: dict[str, list[str]] = {}
    if user is not None and user.is_authenticated and user.is_active:
        rows = RoleAssignment.objects.filter(user=user).values_list("role", "area__path")
        for role, path in rows:
            for action in ROLE_ACTIONS.get(role, ()):
                result.setdefault(action, []).append(path)
    user._linli_role_paths = result  # type: ignore[attr-defined]
    return result


def forget_cached_roles(user: User) -> None:
    if hasattr(user, "_linli_role_paths"):
        del user._linli_role_paths


def can(user: User | None, action: Action, area: Area) -> bool:
    """May `user` perform `action` in `area` (held on the area or any ancestor)?"""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(area.path.startswith(p) for p in _role_paths(user).get(action, ()))


def scope_paths(user: User, action: Action) -> list[str] | None:
    """Root paths of the subtrees where the user may act; None means everywhere."""
    if user.is_superuser:
        return None
    return list(_role_paths(user).get(action, ()))


def scope_q(user: User, action: Action, path_field: str = "path") -> Q:
    """A Q filtering rows whose area path lies in the user's scope for `action`.

    `path_field` is the lookup to the area path, e.g. "area__path" or "grid__path".
    Returns a Q that matches nothing when the user has no scope.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    paths = scope_paths(user, action)
    if paths is None:
        return Q()
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for p in paths:
        q |= Q(**{f"{path_field}__startswith": p})
    return q


def home_area_paths(user: User) -> set[str]:
    paths: set[str] = set()
    for provider in _home_area_providers:
        paths.update(provider(user))
    return paths


def can_view_area(user: User | None, area: Area) -> bool:
    """Staff see their subtree and its ancestors (whose modes they inherit); residents and
    volunteers see the areas they belong to and those areas' ancestors."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    mine = list(_role_paths(user).get(Action.VIEW_AREA, ())) + list(home_area_paths(user))
    # In scope (area under one of mine) or above one of mine (an ancestor).
    return any(area.path.startswith(p) or p.startswith(area.path) for p in mine)


def visible_areas_q(user: User) -> Q:
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    mine = list(_role_paths(user).get(Action.VIEW_AREA, ())) + list(home_area_paths(user))
    if not mine:
        return Q(pk__in=[])
    q = Q()
    ancestor_paths: set[str] = set()
    for p in mine:
        q |= Q(path__startswith=p)
        steplen = Area.steplen
        ancestor_paths.update(p[:i] for i in range(steplen, len(p), steplen))
    if ancestor_paths:
        q |= Q(path__in=ancestor_paths)
    return q
