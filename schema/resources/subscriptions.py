"""Live occupancy: a shelter's facility.updated events, re-read through the scoped type.

- facilityUpdated(facilityId): the facility now, then again whenever it opens, closes or
  people check in or out (anyone who may see it: staff of its areas, everyone while open);
- facilitiesInArea(areaId): staff's overview — any facility of the subtree that changes.
"""

from __future__ import annotations

import graphene
from asgiref.sync import sync_to_async

from community.models import Area
from community.permissions import Action, can
from notifications import events
from resources import access
from resources.models import Facility

from ..core.errors import NotAuthenticated, PermissionDenied
from ..core.types import decode_id
from .types import FacilityType


def _user(info):
    user = info.context.user
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    return user


def _not_found(what: str) -> PermissionDenied:
    return PermissionDenied(f"No such {what}, or you may not see it.", code="NOT_FOUND")


def _visible_facility(user, facility_id: str) -> Facility:
    try:
        pk = decode_id(facility_id, "Facility", "facility_id")
    except Exception:  # noqa: BLE001
        raise _not_found("facility")
    facility = access.visible_facilities(user).select_related("area").filter(pk=pk).first()
    if facility is None:
        raise _not_found("facility")
    return facility


def _staff_area(user, area_id: str) -> Area:
    try:
        area = Area.objects.filter(pk=decode_id(area_id, "Area", "area_id")).first()
    except Exception:  # noqa: BLE001
        area = None
    if area is None or not can(user, Action.VIEW_AREA, area):
        raise _not_found("area")
    return area


def _load(user, facility_id) -> Facility | None:
    return access.visible_facilities(user).select_related("area").filter(pk=facility_id).first()


class ResourcesSubscriptions(graphene.ObjectType):
    facility_updated = graphene.Field(
        FacilityType, required=True, facility_id=graphene.ID(required=True),
        description="The facility now, then on every opening, closing, check-in and check-out (live occupancy).",
    )
    facilities_in_area = graphene.Field(
        FacilityType, required=True, area_id=graphene.ID(required=True),
        description="Staff: any facility of this area's subtree, each time it changes.",
    )

    async def subscribe_facility_updated(root, info, facility_id):
        user = _user(info)
        facility = await sync_to_async(_visible_facility)(user, facility_id)
        return await _stream(info, user, [events.facility_group(facility.pk)], first=facility)

    async def subscribe_facilities_in_area(root, info, area_id):
        user = _user(info)
        area = await sync_to_async(_staff_area)(user, area_id)
        return await _stream(info, user, [events.area_group(area.pk)])

    def resolve_facility_updated(root, info, facility_id):
        return root

    def resolve_facilities_in_area(root, info, area_id):
        return root


async def _stream(info, user, groups: list[str], first: Facility | None = None):
    stream = await info.context.listen(groups).open()

    async def generate():
        try:
            if first is not None:
                yield first
            async for event in stream:
                if event.get("type") != events.FACILITY_UPDATED:
                    continue
                facility = await sync_to_async(_load)(user, event.get("facilityId"))
                if facility is not None:  # closed meanwhile and not yours: say nothing
                    yield facility
        finally:
            await stream.close()

    return generate()
