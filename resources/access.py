"""Who may see and act on facilities, shelter stays, warehouses and stock.

Built on community.permissions: staff act within their subtree (MANAGE_RESOURCES to keep
facilities, open and close them, move stock; VIEW_AREA to list; VIEW_PERSONAL_DATA for who
is in a shelter). Residents and volunteers see open facilities (the nearest shelter with
room is everyone's question); approved volunteers who serve a shelter's area check people in
and out there. Lists are filtered in SQL.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from community.models import Area, User
from community.permissions import Action, can, scope_paths, scope_q
from volunteers.models import Volunteer, VolunteerStatus

from .models import Facility, FacilityStatus, Stock, StockMovement, Warehouse


def visible_facilities(user: User) -> QuerySet[Facility]:
    """Staff: every facility of their areas; everyone signed in: facilities that are open."""
    if not user.is_authenticated:
        return Facility.objects.none()
    if scope_paths(user, Action.VIEW_AREA) is None:  # an empty scope Q would be OR-ed away
        return Facility.objects.all()
    return Facility.objects.filter(scope_q(user, Action.VIEW_AREA, "area__path") | ~Q(status=FacilityStatus.CLOSED))


def can_manage_facility(user: User, facility_or_area: Facility | Area) -> bool:
    area = facility_or_area.area if isinstance(facility_or_area, Facility) else facility_or_area
    return can(user, Action.MANAGE_RESOURCES, area)


def can_check_in(user: User, facility: Facility) -> bool:
    """Staff of the shelter's area or of an area inside it (a grid worker at the community's
    shelter), and approved volunteers who serve in, above or below it."""
    if can_manage_facility(user, facility):
        return True
    path = facility.area.path
    if any(p.startswith(path) for p in scope_paths(user, Action.MANAGE_RESOURCES) or ()):
        return True
    volunteer = Volunteer.objects.filter(user=user, status=VolunteerStatus.APPROVED, user__is_active=True).first()
    if volunteer is None:
        return False
    areas = [volunteer.area, *volunteer.service_areas.all()]
    return any(path.startswith(a.path) or a.path.startswith(path) for a in areas)


def can_see_stays(user: User, facility: Facility) -> bool:
    """Who is inside (names, vulnerability): those who check people in."""
    return can(user, Action.VIEW_PERSONAL_DATA, facility.area) or can_check_in(user, facility)


def visible_warehouses(user: User) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(scope_q(user, Action.VIEW_AREA, "area__path"))


def visible_stock(user: User) -> QuerySet[Stock]:
    return Stock.objects.filter(scope_q(user, Action.VIEW_AREA, "warehouse__area__path"))


def visible_movements(user: User) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(scope_q(user, Action.VIEW_AREA, "warehouse__area__path"))


def can_manage_stock(user: User, warehouse_or_area: Warehouse | Area) -> bool:
    area = warehouse_or_area.area if isinstance(warehouse_or_area, Warehouse) else warehouse_or_area
    return can(user, Action.MANAGE_RESOURCES, area)
