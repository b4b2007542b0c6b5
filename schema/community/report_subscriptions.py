"""reportsInArea: grid staff see reports filed (or changed) in their area as they happen."""

from __future__ import annotations

import graphene
from asgiref.sync import sync_to_async

from community.models import Area, ResidentReport
from community.permissions import Action, can
from notifications import events

from ..core.errors import NotAuthenticated, PermissionDenied
from ..core.types import decode_id
from .hazard_types import ReportEvent, may_view_report

REPORT_EVENTS = (events.REPORT_CREATED, events.REPORT_UPDATED)


def _staff_area(user, area_id: str) -> Area:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    try:
        area = Area.objects.filter(pk=decode_id(area_id, "Area", "area_id")).first()
    except Exception:  # noqa: BLE001
        area = None
    if area is None or not can(user, Action.VIEW_REPORTS, area):
        raise PermissionDenied("No such area, or you may not see its reports.", code="NOT_FOUND")
    return area


def _build(user, event: dict) -> dict | None:
    report_id = event.get("reportId")
    if report_id is None:
        return None
    report = ResidentReport.objects.select_related("grid", "reporter").filter(pk=report_id).first()
    if report is None or not may_view_report(user, report):  # roles may have changed meanwhile
        return None
    return {"type": event["type"], "report": report}


class ReportSubscriptions(graphene.ObjectType):
    reports_in_area = graphene.Field(
        ReportEvent,
        area_id=graphene.ID(required=True),
        description="Staff: reports filed or changed anywhere in this area's subtree.",
    )

    async def subscribe_reports_in_area(root, info, area_id):
        user = info.context.user
        area = await sync_to_async(_staff_area)(user, area_id)
        # Reports are published to their grid and every ancestor, so one group suffices.
        stream = await info.context.listen([events.area_group(area.pk)]).open()

        async def generate():
            try:
                async for event in stream:
                    if event.get("type") not in REPORT_EVENTS:
                        continue
                    payload = await sync_to_async(_build)(user, event)
                    if payload is not None:
                        yield payload
            finally:
                await stream.close()

        return generate()

    def resolve_reports_in_area(root, info, area_id):
        return root
