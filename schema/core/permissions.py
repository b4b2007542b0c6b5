"""Resolver-side helpers around community.permissions (the one permission module)."""

from __future__ import annotations

from community.models import Area
from community.permissions import Action, can, can_view_area

from .errors import NotAuthenticated, PermissionDenied
from .types import decode_id


def current_user(info):
    user = getattr(info.context, "user", None)
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    return user


def require(info, action: Action, area: Area):
    """Raise unless the caller may perform `action` in `area`; returns the user."""
    user = current_user(info)
    if not can(user, action, area):
        raise PermissionDenied()
    return user


def require_view_area(info, area: Area):
    user = current_user(info)
    if not can_view_area(user, area):
        raise PermissionDenied()
    return user


def visible_area(user, area_id: str) -> Area:
    """The area a subscription names, if the user may see it (else NOT_FOUND: no oracle)."""
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    try:
        pk = decode_id(area_id, "Area", "area_id")
    except Exception:  # noqa: BLE001
        raise PermissionDenied("No such area, or you may not see it.", code="NOT_FOUND")
    area = Area.objects.filter(pk=pk).first()
    if area is None or not can_view_area(user, area):
        raise PermissionDenied("No such area, or you may not see it.", code="NOT_FOUND")
    return area
