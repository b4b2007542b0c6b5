from __future__ import annotations

from functools import lru_cache

import graphene
from asgiref.sync import sync_to_async
from django.utils.dateparse import parse_datetime

from community.models import Area
from notifications import events

from ..core.permissions import visible_area
from .report_subscriptions import ReportSubscriptions
from .types import AreaModeChangedEvent, AreaType


def _build_event(area_pk: int, event: dict) -> dict | None:
    return _event_payload(area_pk, event["areaId"], event.get("switchId"), event["mode"], event["fromMode"],
                          event["isDrill"], event.get("reason", ""), event["changedAt"])


@lru_cache(maxsize=512)
def _event_payload(area_pk, switched_pk, switch_id, mode, from_mode, is_drill, reason, changed_at) -> dict | None:
    """Built once per process for every subscriber of the same area and switch: a district
    switch reaches thousands of sockets, and they all need the same few rows."""
    area = Area.objects.filter(pk=area_pk).first()
    switched = Area.objects.filter(pk=switched_pk).first()
    if area is None or switched is None:
        return None
    return {
        "area": area,
        "switched_area": switched,
        "mode": mode,
        "from_mode": from_mode,
        "effective_mode": area.effective_mode(),
        "is_drill": is_drill,
        "reason": reason,
        "changed_at": parse_datetime(changed_at),
    }


class CommunitySubscriptions(ReportSubscriptions, graphene.ObjectType):
    area_mode_changed = graphene.Field(
        AreaModeChangedEvent,
        area_id=graphene.ID(required=True),
        description="Mode switches of this area or any of its ancestors.",
    )

    async def subscribe_area_mode_changed(root, info, area_id):
        area = await sync_to_async(visible_area)(info.context.user, area_id)
        ancestor_ids = await sync_to_async(lambda: list(area.ancestors_and_self().values_list("pk", flat=True)))()
        stream = await info.context.listen([events.area_group(pk) for pk in ancestor_ids]).open()

        async def generate():
            try:
                async for event in stream:
                    if event.get("type") != events.AREA_MODE_CHANGED:
                        continue
                    payload = await sync_to_async(_build_event)(area.pk, event)
                    if payload is not None:
                        yield payload
            finally:
                await stream.close()

        return generate()

    def resolve_area_mode_changed(root, info, area_id):
        return root


__all__ = ["CommunitySubscriptions", "AreaType"]
