"""Queries of warnings that came in, their proposals and the sensors (staff)."""

from __future__ import annotations

import graphene
from django.db.models import Q
from django.utils import timezone
from graphene_django import DjangoConnectionField

from community.models import Area
from emergency.models import IncomingWarning, Sensor, WarningProposal

from ..core.errors import PermissionDenied
from ..core.lookup import get_node_or_none
from ..core.permissions import current_user
from ..core.types import plain
from .warning_types import (
    IncomingWarningType,
    ProposalStatusEnum,
    SensorType,
    WarningProposalType,
    is_staff,
)


def _staff(info):
    user = current_user(info)
    if not is_staff(user):
        raise PermissionDenied()
    return user


class WarningQueries(graphene.ObjectType):
    incoming_warnings = DjangoConnectionField(
        IncomingWarningType, area_id=graphene.ID(description="Covering this area, an area in it or above it."),
        active_only=graphene.Boolean(default_value=False),
        description="Staff: warnings that came in (CAP feeds, webhook, sensors) for your areas, newest first.",
    )
    warning_proposals = DjangoConnectionField(
        WarningProposalType, area_id=graphene.ID(), status=ProposalStatusEnum(),
        description="Staff: proposals to switch your areas' modes, newest first (status PENDING: to decide).",
    )
    sensors = DjangoConnectionField(SensorType, area_id=graphene.ID(), description="Staff: sensors in your areas.")

    def resolve_incoming_warnings(root, info, area_id=None, active_only=False, **kwargs):
        _staff(info)
        qs = IncomingWarning.objects.order_by("-received_at", "-id")
        area = get_node_or_none(Area, area_id, "area_id")
        if area is not None:
            related = Q(matched_areas__path__startswith=area.path) | Q(matched_areas__path__in=area.ancestor_paths())
            qs = qs.filter(pk__in=IncomingWarning.objects.filter(related).values("pk"))
        if active_only:
            now = timezone.now()
            qs = qs.filter(superseded_at__isnull=True).exclude(msg_type="Cancel").filter(Q(expires__isnull=True) | Q(expires__gt=now))
        return qs

    def resolve_warning_proposals(root, info, area_id=None, status=None, **kwargs):
        _staff(info)
        qs = WarningProposal.objects.order_by("-created_at", "-id")
        area = get_node_or_none(Area, area_id, "area_id")
        if area is not None:
            qs = qs.filter(area__path__startswith=area.path)
        if status is not None:
            qs = qs.filter(status=plain(status))
        return qs

    def resolve_sensors(root, info, area_id=None, **kwargs):
        _staff(info)
        qs = Sensor.objects.order_by("code")
        area = get_node_or_none(Area, area_id, "area_id")
        return qs.filter(area__path__startswith=area.path) if area is not None else qs
