"""Resolver-side helpers around community.permissions (the one permission module)."""

from __future__ import annotations

from community.models import Area
from community.permissions import Action, can, can_view_area

from .errors import NotAuthenticated, PermissionDenied


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
