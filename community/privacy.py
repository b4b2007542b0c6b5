"""Who sees which personal fields of a resident (DESIGN.md principle 5, research R1.7).

- the resident themself: everything about them except the staff's care notes;
- staff holding VIEW_PERSONAL_DATA over the resident's grid (grid workers, community
  admins): phone, address, location, vulnerability, contacts, and the care notes;
- staff with VIEW_PEOPLE only (district commanders): the name and grid; the rest masked;
- members of the same household: the names of their household, nothing personal.
"""

from __future__ import annotations

from collections.abc import Iterable

from privacy import access

from .models import Resident, RoleAssignment, User
from .permissions import Action, can, register_home_area_provider


def is_self(user: User | None, resident: Resident) -> bool:
    return user is not None and user.is_authenticated and resident.user_id == user.pk


def may_view(user: User | None, resident: Resident) -> bool:
    return is_self(user, resident) or can(user, Action.VIEW_PEOPLE, resident.grid)


def may_see_personal_data(user: User | None, resident: Resident) -> bool:
    return is_self(user, resident) or can(user, Action.VIEW_PERSONAL_DATA, resident.grid)


def may_see_care_notes(user: User | None, resident: Resident) -> bool:
    """Staff of that area only (not the resident, not commanders)."""
    return can(user, Action.VIEW_PERSONAL_DATA, resident.grid)


def may_manage(user: User | None, resident: Resident) -> bool:
    return can(user, Action.MANAGE_PEOPLE, resident.grid)


def roles_over(user: User, area_path: str) -> str:
    """The roles under which `user` acts in the area at `area_path`, for the access log
    ("community_admin", "grid_worker", "superuser"; "" for none)."""
    if user.is_superuser:
        return "superuser"
    held: list[tuple[str, str]] | None = getattr(user, "_linli_access_roles", None)
    if held is None:
        held = list(RoleAssignment.objects.filter(user=user).values_list("role", "area__path"))
        user._linli_access_roles = held  # type: ignore[attr-defined]
    return ",".join(sorted({role for role, path in held if area_path.startswith(path)}))


def record_resident_reads(user: User, residents: Iterable[Resident], fields: Iterable[str]) -> None:
    """Note reads of these residents' `fields` in the current request's access log."""
    wanted = set(fields)
    for resident in residents:
        access.note(access.resident_read(resident, wanted, role=roles_over(user, resident.grid.path)))


def resident_home_paths(user: User) -> list[str]:
    """Home-area provider: a resident belongs to their grid (and so sees its ancestors)."""
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(user, "_linli_resident_paths", None)
    if cached is None:
        cached = list(Resident.objects.filter(user=user).values_list("grid__path", flat=True))
        user._linli_resident_paths = cached  # type: ignore[attr-defined]
    return cached


def forget_cached_home(user: User) -> None:
    if hasattr(user, "_linli_resident_paths"):
        del user._linli_resident_paths


def register() -> None:
    register_home_area_provider(resident_home_paths)
