"""GraphQL types of service activities, attendance and the service-hours ledger."""

from __future__ import annotations

import graphene
from django.db.models import Prefetch
from graphene_django import DjangoConnectionField, DjangoObjectType

from community.permissions import Action, scope_q
from volunteers import access
from volunteers.models import (
    ActivityCheckIn,
    ActivitySignup,
    ActivityStatus,
    CheckInMethod,
    CheckOutMethod,
    ServiceActivity,
    ServiceHoursEntry,
    ServiceHoursKind,
    SignupStatus,
)
from volunteers.services import ExportFormat, Period

from ..community.types import AreaType
from ..core.scalars import Location
from ..core.types import CountedConnection, Node
from .types import _enum, plain

ActivityStatusEnum = _enum("ServiceActivityStatus", ActivityStatus)
SignupStatusEnum = _enum("ActivitySignupStatus", SignupStatus)
CheckInMethodEnum = _enum("CheckInMethod", CheckInMethod)
CheckOutMethodEnum = _enum("CheckOutMethod", CheckOutMethod)
ServiceHoursKindEnum = _enum("ServiceHoursKind", ServiceHoursKind)
HoursPeriodEnum = _enum("HoursPeriod", Period, "Periods are calendar days, ISO weeks, months or years in Asia/Shanghai.")
ExportFormatEnum = _enum("ServiceHoursExportFormat", ExportFormat)


class ActivityCheckInType(DjangoObjectType):
    method = graphene.Field(CheckInMethodEnum, required=True)
    checkout_method = graphene.Field(CheckOutMethodEnum)
    hours = graphene.Decimal(description="Hours credited at check-out (null while checked in).")
    activity = graphene.Field(lambda: ServiceActivityType, required=True)

    class Meta:
        model = ActivityCheckIn
        name = "ActivityCheckIn"
        interfaces = (Node,)
        fields = ("id", "activity", "checked_in_at", "method", "distance_m", "checked_out_at", "checkout_method")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return queryset.filter(user=user) if user.is_authenticated else queryset.none()

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(ActivityCheckIn.objects.filter(pk=id), info).select_related("hours_entry").first()

    def resolve_activity(self, info):
        return self.activity

    def resolve_method(self, info):
        return plain(self.method)

    def resolve_checkout_method(self, info):
        return plain(self.checkout_method)

    def resolve_hours(self, info):
        return self.hours_entry.hours if self.hours_entry_id else None


class ActivitySignupType(DjangoObjectType):
    status = graphene.Field(SignupStatusEnum, required=True)
    activity = graphene.Field(lambda: ServiceActivityType, required=True)

    class Meta:
        model = ActivitySignup
        name = "ActivitySignup"
        interfaces = (Node,)
        fields = ("id", "activity", "status", "signed_up_at", "cancelled_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return queryset.filter(user=user) if user.is_authenticated else queryset.none()

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(ActivitySignup.objects.filter(pk=id), info).first()

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_activity(self, info):
        return self.activity


class ServiceActivityType(DjangoObjectType):
    community = graphene.Field(AreaType, required=True)
    status = graphene.Field(ActivityStatusEnum, required=True)
    location = graphene.Field(Location, required=True, description="The meeting point (WGS-84).")
    places_left = graphene.Int(required=True)
    signed_up_count = graphene.Int(required=True)
    has_checkin_code = graphene.Boolean(required=True, description="An on-site code can be used to check in.")
    checkin_code = graphene.String(description="Only for staff who manage the activity (to show it on site).")
    my_signup = graphene.Field(ActivitySignupType, description="Your sign-up, if any.")
    my_check_in = graphene.Field(ActivityCheckInType, description="Your attendance, if any.")

    class Meta:
        model = ServiceActivity
        name = "ServiceActivity"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = (
            "id", "community", "title", "description", "address", "starts_at", "ends_at", "capacity",
            "checkin_radius_m", "status", "created_at",
        )

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        if not user.is_authenticated:
            return queryset.none()
        visible = access.visible_activities(user).values("pk")
        return queryset.filter(pk__in=visible).select_related("community").prefetch_related(
            Prefetch("signups", queryset=ActivitySignup.objects.filter(user=user), to_attr="my_signups"),
            Prefetch("checkins", queryset=ActivityCheckIn.objects.filter(user=user).select_related("hours_entry"), to_attr="my_checkins"),
        )

    @classmethod
    def get_node(cls, info, id):
        found = cls.get_queryset(ServiceActivity.objects.filter(pk=id), info).first()
        if found is None:
            # Someone who signed up keeps seeing the activity even if they move away.
            found = ServiceActivity.objects.filter(pk=id, signups__user=info.context.user).first() if info.context.user.is_authenticated else None
        return found

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_location(self, info):
        return Location(latitude=self.lat, longitude=self.lng)

    def resolve_places_left(self, info):
        return self.places_left

    def resolve_has_checkin_code(self, info):
        return bool(self.checkin_code)

    def resolve_checkin_code(self, info):
        if not self.checkin_code or not access.can_manage_activity(info.context.user, self):
            return None
        return self.checkin_code

    def resolve_my_signup(self, info):
        mine = getattr(self, "my_signups", None)
        if mine is None:
            mine = list(ActivitySignup.objects.filter(activity=self, user=info.context.user))
        return mine[0] if mine else None

    def resolve_my_check_in(self, info):
        mine = getattr(self, "my_checkins", None)
        if mine is None:
            mine = list(ActivityCheckIn.objects.filter(activity=self, user=info.context.user).select_related("hours_entry"))
        return mine[0] if mine else None


class ServiceHoursEntryType(DjangoObjectType):
    kind = graphene.Field(ServiceHoursKindEnum, required=True)
    hours = graphene.Decimal(required=True, description="Negative for a correction that removes hours.")
    community = graphene.Field(AreaType, required=True)
    member_name = graphene.String(required=True)
    corrects_id = graphene.ID(description="The entry this one corrects.")
    source_description = graphene.String(description="What the hours were for (activity or task title).")
    recorded_by_name = graphene.String()

    class Meta:
        model = ServiceHoursEntry
        name = "ServiceHoursEntry"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "hours", "kind", "reason", "occurred_at", "created_at", "community")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        if not user.is_authenticated:
            return queryset.none()

        mine_or_scoped = queryset.filter(user=user) | queryset.filter(scope_q(user, Action.VIEW_PEOPLE, "community__path"))
        return mine_or_scoped.select_related("user", "community", "created_by", "source_type").prefetch_related("source")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(ServiceHoursEntry.objects.filter(pk=id), info).first()

    def resolve_kind(self, info):
        return plain(self.kind)

    def resolve_member_name(self, info):
        return self.user.public_name

    def resolve_corrects_id(self, info):
        return Node.to_global_id("ServiceHoursEntry", self.corrects_id) if self.corrects_id else None

    def resolve_source_description(self, info):
        if self.source_type_id is None:
            return None
        target = self.source
        return str(target) if target is not None else None

    def resolve_recorded_by_name(self, info):
        by = self.created_by
        return by.public_name if by else None


class HoursBucket(graphene.ObjectType):
    start = graphene.Date(required=True, description="First day of the period.")
    hours = graphene.Decimal(required=True)


class ServiceHoursSummary(graphene.ObjectType):
    total = graphene.Decimal(required=True, description="Sum of every entry in the range, corrections included.")
    entry_count = graphene.Int(required=True)
    period = graphene.Field(HoursPeriodEnum, required=True)
    start = graphene.Date(required=True)
    end = graphene.Date(required=True)
    periods = graphene.List(graphene.NonNull(HoursBucket), required=True, description="Every period in the range, empty ones as 0.")
    entries = DjangoConnectionField(ServiceHoursEntryType, description="The entries in the range, newest first.")

    def resolve_entries(self, info, **kwargs):
        return self.entry_queryset.order_by("-occurred_at", "-id")


class ExportedFile(graphene.ObjectType):
    filename = graphene.String(required=True)
    content_type = graphene.String(required=True)
    content_base64 = graphene.String(required=True, description="The file's bytes, base64-encoded.")
    row_count = graphene.Int(required=True)
