"""GraphQL types of warnings that come in, the proposals they make, and sensors.

Staff see the warnings that matched an area of theirs (or an area above one: a warning for
the subdistrict concerns its communities), the proposals for their areas, and their areas'
sensors; those who may switch an area's mode decide its proposals.
"""

from __future__ import annotations

import graphene
from django.db.models import Q
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from community.models import Area
from community.permissions import Action, can, scope_paths, scope_q, visible_areas_q
from emergency.models import (
    CapStatus,
    IncomingWarning,
    ProposalStatus,
    Sensor,
    SensorKind,
    SensorReading,
    WarningProposal,
)

from ..community.types import AreaType, ModeEnum
from ..core.scalars import Location
from ..core.types import CountedConnection, Node
from .types import (
    CapCertaintyEnum,
    CapSeverityEnum,
    CapUrgencyEnum,
    ModeSwitchType,
    ResponsePlanType,
)

CapStatusEnum = graphene.Enum("CapStatus", [(m.name, m.value) for m in CapStatus],
                              description="Actual, or Exercise/System/Test/Draft (recorded, never acted on)")
ProposalStatusEnum = graphene.Enum.from_enum(ProposalStatus, description="PENDING until a commander decides (or the "
                                             "plan switched by itself: AUTO_SWITCHED)")
SensorKindEnum = graphene.Enum("SensorKind", [(m.name, m.value) for m in SensorKind])


def _user(info):
    return info.context.user


def is_staff(user) -> bool:
    paths = scope_paths(user, Action.VIEW_AREA) if user.is_authenticated else []
    return paths is None or bool(paths)


def visible_warnings_q(user) -> Q:
    """Warnings that matched an area the user sees as staff (theirs, below, or above)."""
    if not user.is_authenticated or not is_staff(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(matched_areas__in=Area.objects.filter(visible_areas_q(user)))


def _plain(value):
    return None if value in (None, "") else str(getattr(value, "value", value))


class WarningProposalType(DjangoObjectType):
    warning = graphene.Field(lambda: IncomingWarningType, required=True)
    area = graphene.Field(AreaType, required=True)
    mode = graphene.Field(ModeEnum, required=True, description="The mode proposed.")
    status = graphene.Field(ProposalStatusEnum, required=True)
    plan = graphene.Field(ResponsePlanType, description="The plan a switch would run (the area's own or an ancestor's).")
    switched_to = graphene.Field(ModeEnum, description="The mode the area was switched to (accepted or automatic).")
    mode_switch = graphene.Field(ModeSwitchType)
    decided_by_name = graphene.String()
    can_decide = graphene.Boolean(required=True, description="You may switch this area's mode.")

    class Meta:
        model = WarningProposal
        name = "WarningProposal"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "plan_version", "created_at", "decided_at", "seconds_to_decide", "note")

    @classmethod
    def get_queryset(cls, queryset, info):
        return (queryset.filter(scope_q(_user(info), Action.VIEW_AREA, "area__path"))
                .select_related("area", "warning", "plan__area", "decided_by", "mode_switch"))

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(WarningProposal.objects.filter(pk=id), info).first()

    def resolve_mode(self, info):
        return _plain(self.mode)

    def resolve_status(self, info):
        return _plain(self.status)

    def resolve_switched_to(self, info):
        return _plain(self.switched_to)

    def resolve_plan(self, info):
        return self.plan

    def resolve_mode_switch(self, info):
        return self.mode_switch

    def resolve_decided_by_name(self, info):
        return self.decided_by.public_name if self.decided_by_id else None

    def resolve_can_decide(self, info):
        return self.status == ProposalStatus.PENDING and can(_user(info), Action.SWITCH_MODE, self.area)


class IncomingWarningType(DjangoObjectType):
    status = graphene.Field(CapStatusEnum, required=True)
    msg_type = graphene.String(required=True, description="Alert, Update, Cancel (or Ack, Error).")
    urgency = graphene.Field(CapUrgencyEnum, required=True)
    severity = graphene.Field(CapSeverityEnum, required=True)
    certainty = graphene.Field(CapCertaintyEnum, required=True)
    categories = graphene.List(graphene.NonNull(graphene.String), required=True)
    references = graphene.Field(lambda: IncomingWarningType, description="The earlier message this one updates or cancels.")
    is_active = graphene.Boolean(required=True)
    areas = graphene.List(graphene.NonNull(AreaType), required=True, description="The Linli areas it covers.")
    shapes = GenericScalar(required=True, description="Its CAP areas: polygons, circles and geocodes as received.")
    source_name = graphene.String(description="The feed or webhook it came from.")
    sensor_code = graphene.String(description="Raised by this sensor of ours.")
    proposals = graphene.List(graphene.NonNull(WarningProposalType), required=True)
    cap_xml = graphene.String(required=True, description="The document as received.")

    class Meta:
        model = IncomingWarning
        name = "IncomingWarning"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "identifier", "sender", "sent", "event", "sender_name", "headline", "description", "instruction",
                  "onset", "expires", "received_at", "superseded_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = IncomingWarning.objects.filter(visible_warnings_q(_user(info))).values("pk")
        return queryset.filter(pk__in=visible).select_related("source", "sensor", "references")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(IncomingWarning.objects.filter(pk=id), info).first()

    def resolve_status(self, info):
        return _plain(self.status)

    def resolve_urgency(self, info):
        return _plain(self.urgency)

    def resolve_severity(self, info):
        return _plain(self.severity)

    def resolve_certainty(self, info):
        return _plain(self.certainty)

    def resolve_categories(self, info):
        return list(self.categories)

    def resolve_references(self, info):
        return self.references

    def resolve_is_active(self, info):
        return self.is_active()

    def resolve_areas(self, info):
        return list(self.matched_areas.order_by("path"))

    def resolve_source_name(self, info):
        return self.source.name if self.source_id else None

    def resolve_sensor_code(self, info):
        return self.sensor.code if self.sensor_id else None

    def resolve_proposals(self, info):
        return list(WarningProposalType.get_queryset(self.proposals.all(), info).order_by("area__path"))

    def resolve_cap_xml(self, info):
        return self.xml


class SensorReadingType(DjangoObjectType):
    class Meta:
        model = SensorReading
        name = "SensorReading"
        fields = ("value", "observed_at", "received_at", "level")


class SensorType(DjangoObjectType):
    kind = graphene.Field(SensorKindEnum, required=True)
    area = graphene.Field(AreaType, required=True)
    location = graphene.Field(Location)
    thresholds = GenericScalar(required=True, description='[{"value": 3.5, "severity": "Moderate", "event": "内涝"}, ...]')
    source_code = graphene.String(required=True)
    current_warning = graphene.Field(IncomingWarningType)
    readings = graphene.List(graphene.NonNull(SensorReadingType), required=True, last=graphene.Int(default_value=50))

    class Meta:
        model = Sensor
        name = "Sensor"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "code", "name", "unit", "radius_m", "is_active", "level", "last_value", "last_reading_at", "area")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(scope_q(_user(info), Action.VIEW_AREA, "area__path")).select_related("area", "source")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Sensor.objects.filter(pk=id), info).first()

    def resolve_kind(self, info):
        return _plain(self.kind)

    def resolve_location(self, info):
        return Location(latitude=self.lat, longitude=self.lng) if self.point else None

    def resolve_thresholds(self, info):
        return self.thresholds

    def resolve_source_code(self, info):
        return self.source.code

    def resolve_current_warning(self, info):
        return self.current_warning

    def resolve_readings(self, info, last=50):
        return list(self.readings.order_by("-observed_at")[: max(1, min(last, 500))])
