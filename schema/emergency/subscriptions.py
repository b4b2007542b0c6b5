"""Live emergency data: safety-check counts for staff, alerts for everyone in an area."""

from __future__ import annotations

import asyncio
import time

import graphene
from asgiref.sync import sync_to_async
from django.conf import settings

from community.permissions import Action, can
from emergency.models import Alert, SafetyCheck, WarningProposal
from notifications import events

from ..core.errors import NotAuthenticated, PermissionDenied
from ..core.permissions import visible_area
from ..core.types import decode_id
from .types import AlertType, SafetyCounts, counts_payload, may_watch
from .warning_types import WarningProposalType


def _staff_check(user, check_id: str) -> SafetyCheck:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    try:
        check = SafetyCheck.objects.select_related("area").filter(pk=decode_id(check_id, "SafetyCheck", "safety_check_id")).first()
    except Exception:  # noqa: BLE001
        check = None
    if check is None or not may_watch(user, check.area):
        raise PermissionDenied("No such safety check, or you may not see it.", code="NOT_FOUND")
    return check


def _fresh_counts(check_pk: int) -> SafetyCounts | None:
    check = SafetyCheck.objects.select_related("area").filter(pk=check_pk).first()
    return counts_payload(check) if check else None


def _alert_for(alert_id) -> Alert | None:
    return Alert.objects.select_related("area", "references").filter(pk=alert_id).first()


class EmergencySubscriptions(graphene.ObjectType):
    safety_check_counts = graphene.Field(
        SafetyCounts, safety_check_id=graphene.ID(required=True),
        description="Staff: the counts now, then again as the fan-out's chunks land and answers arrive (at most one update per second).",
    )
    area_alerts = graphene.Field(
        AlertType, area_id=graphene.ID(required=True),
        description="Alerts (and their updates and cancellations) issued for this area or an area above it.",
    )

    async def subscribe_safety_check_counts(root, info, safety_check_id):
        check = await sync_to_async(_staff_check)(info.context.user, safety_check_id)
        stream = await info.context.listen([events.safety_check_group(check.pk)]).open()
        interval = settings.SAFETY_PUSH_INTERVAL_SECONDS

        async def generate():
            try:
                yield await sync_to_async(_fresh_counts)(check.pk)
                last = time.monotonic()
                async for _event in stream:
                    # Coalesce: a burst of answers becomes one recount per interval.
                    wait = interval - (time.monotonic() - last)
                    if wait > 0:
                        await asyncio.sleep(wait)
                    while not stream.queue.empty():
                        stream.queue.get_nowait()
                    payload = await sync_to_async(_fresh_counts)(check.pk)
                    last = time.monotonic()
                    if payload is not None:
                        yield payload
            finally:
                await stream.close()

        return generate()

    def resolve_safety_check_counts(root, info, safety_check_id):
        return root

    async def subscribe_area_alerts(root, info, area_id):
        user = info.context.user
        area = await sync_to_async(visible_area)(user, area_id)
        ancestor_ids = await sync_to_async(lambda: list(area.ancestors_and_self().values_list("pk", flat=True)))()
        stream = await info.context.listen([events.area_group(pk) for pk in ancestor_ids]).open()

        async def generate():
            try:
                async for event in stream:
                    if event.get("type") != events.ALERT_ISSUED:
                        continue
                    alert = await sync_to_async(_alert_for)(event.get("alertId"))
                    if alert is not None:
                        yield alert
            finally:
                await stream.close()

        return generate()

    def resolve_area_alerts(root, info, area_id):
        return root

    warning_proposed = graphene.Field(
        WarningProposalType, area_id=graphene.ID(required=True),
        description="Staff: each proposal (or automatic switch) an incoming warning makes for this area or below it.",
    )

    async def subscribe_warning_proposed(root, info, area_id):
        user = info.context.user
        area = await sync_to_async(visible_area)(user, area_id)
        if not await sync_to_async(can)(user, Action.VIEW_AREA, area):
            raise PermissionDenied("No such area, or you may not see it.", code="NOT_FOUND")
        stream = await info.context.listen([events.area_group(area.pk)]).open()

        async def generate():
            try:
                async for event in stream:
                    if event.get("type") != events.WARNING_PROPOSED:
                        continue
                    proposal = await sync_to_async(_proposal_for)(user, event.get("proposalId"))
                    if proposal is not None:
                        yield proposal
            finally:
                await stream.close()

        return generate()

    def resolve_warning_proposed(root, info, area_id):
        return root


def _proposal_for(user, proposal_id) -> WarningProposal | None:
    proposals = WarningProposal.objects.filter(pk=proposal_id).select_related("area", "warning", "plan")
    proposal = proposals.first()
    return proposal if proposal is not None and can(user, Action.VIEW_AREA, proposal.area) else None
