"""GraphQL types of volunteers and Party members. Personal data (phone, home point,
certificate numbers, temporary location) is shown to the person themself and to staff
holding VIEW_PERSONAL_DATA over the person's areas; others see it masked or null."""

from __future__ import annotations

import graphene
from django.db.models import Prefetch
from graphene_django import DjangoObjectType

from community.models import User
from volunteers import access
from volunteers.models import (
    AvailabilityWindow,
    ContactChannel,
    PartyMemberRegistration,
    PartyRegistrationStatus,
    Skill,
    SmsUnreachableReason,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)

from ..community.types import AreaType
from ..core.scalars import Location
from ..core.types import CountedConnection, Node


def _enum(name: str, choices, description: str = "") -> type[graphene.Enum]:
    return graphene.Enum(name, [(m.name, m.value) for m in choices], description=description)


VolunteerStatusEnum = _enum("VolunteerStatus", VolunteerStatus, "PENDING until staff approve; SUSPENDED volunteers are never offered work.")
ContactChannelEnum = _enum("ContactChannel", ContactChannel, "How offers reach the volunteer.")
SmsUnreachableReasonEnum = _enum("SmsUnreachableReason", SmsUnreachableReason, "Why SMS cannot reach the volunteer.")
PartyRegistrationStatusEnum = _enum("PartyRegistrationStatus", PartyRegistrationStatus)


def plain(value):
    """Model choice values as plain strings (fresh instances may hold enum members)."""
    return None if value in (None, "") else str(getattr(value, "value", value))


def _viewer(info) -> User:
    return info.context.user


def _masked_phone(user: User, show_full: bool) -> str | None:
    if not user.phone:
        return None
    return str(user.phone) if show_full else user.masked_phone


class SkillType(DjangoObjectType):
    name = graphene.String(required=True, description="In the caller's language.")

    class Meta:
        model = Skill
        name = "Skill"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "code", "name_zh", "name_en", "requires_certificate")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(is_active=True)

    def resolve_name(self, info):
        user = _viewer(info)
        return self.name_for(getattr(user, "preferred_language", "zh-hans"))


class VolunteerSkillType(DjangoObjectType):
    skill = graphene.Field(SkillType, required=True)
    certificate_ref = graphene.String(description="Only for the volunteer and staff who may see personal data.")
    is_valid = graphene.Boolean(required=True, description="Counts for dispatch now (not expired, certified if required).")

    class Meta:
        model = VolunteerSkill
        name = "VolunteerSkill"
        fields = ("skill", "certificate_ref", "expires_on")

    def resolve_skill(self, info):
        return self.skill

    def resolve_certificate_ref(self, info):
        return self.certificate_ref if getattr(self.volunteer, "_show_personal", False) else None

    def resolve_is_valid(self, info):
        return self.is_valid()


class AvailabilityWindowType(DjangoObjectType):
    class Meta:
        model = AvailabilityWindow
        name = "AvailabilityWindow"
        description = "A weekly window in Asia/Shanghai time; weekday 0 is Monday. An end not after the start runs past midnight."
        fields = ("weekday", "start", "end")


class TemporaryLocation(graphene.ObjectType):
    location = graphene.Field(Location, required=True)
    until = graphene.DateTime(required=True)


class VolunteerRecord(graphene.ObjectType):
    offered = graphene.Int(required=True)
    accepted = graphene.Int(required=True)
    declined = graphene.Int(required=True)
    expired = graphene.Int(required=True, description="Offers left unanswered until their deadline.")
    completed = graphene.Int(required=True)
    withdrawn = graphene.Int(required=True, description="Accepted, then dropped or did not show up.")
    reliability = graphene.Float(
        required=True,
        description="(completed + 3) / (completed + expired + withdrawn + 4): starts at 0.75, follows the record.",
    )
    response_rate = graphene.Float(description="(accepted + declined) / offered; null before any offer.")


class VolunteerType(DjangoObjectType):
    status = graphene.Field(VolunteerStatusEnum, required=True)
    display_name = graphene.String(required=True)
    phone = graphene.String(description="E.164; masked unless it is you or you may see personal data.")
    area = graphene.Field(AreaType, required=True, description="Where they signed up; its staff approve them.")
    service_areas = graphene.List(graphene.NonNull(AreaType), required=True)
    skills = graphene.List(graphene.NonNull(VolunteerSkillType), required=True)
    languages = graphene.List(graphene.NonNull(graphene.String), required=True)
    contact_channel = graphene.Field(ContactChannelEnum, required=True)
    availability = graphene.List(graphene.NonNull(AvailabilityWindowType), required=True)
    is_on_duty = graphene.Boolean(required=True, description='"I can help now" is on (it switches itself off at onDutyUntil).')
    is_available_now = graphene.Boolean(required=True, description="Approved and on duty or inside a weekly window.")
    home_location = graphene.Field(Location, description="Only for the volunteer and staff who may see personal data.")
    temporary_location = graphene.Field(TemporaryLocation, description="While it lasts; same visibility as homeLocation.")
    sms_reachable = graphene.Boolean(required=True)
    sms_unreachable_reason = graphene.Field(
        SmsUnreachableReasonEnum, description="OPTED_OUT: the number texted STOP; reply START to receive SMS again."
    )
    record = graphene.Field(VolunteerRecord, required=True)
    suspended_reason = graphene.String(description="Why staff suspended the volunteer (shown to them).")

    class Meta:
        model = Volunteer
        name = "Volunteer"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = (
            "id", "status", "area", "service_areas", "languages", "max_concurrent_tasks", "contact_channel",
            "on_duty_until", "signed_up_at", "approved_at", "suspended_at", "suspended_reason",
        )

    @classmethod
    def get_queryset(cls, queryset, info):
        return optimise_volunteers(queryset.filter(pk__in=access.visible_volunteers(_viewer(info)).values("pk")))

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Volunteer.objects.filter(pk=id), info).first()

    def _personal(self, info) -> bool:
        if not hasattr(self, "_show_personal"):
            self._show_personal = access.can_see_volunteer_personal_data(_viewer(info), self)
        return self._show_personal

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_contact_channel(self, info):
        return plain(self.contact_channel)

    def resolve_display_name(self, info):
        return self.user.public_name

    def resolve_phone(self, info):
        return _masked_phone(self.user, VolunteerType._personal(self, info))

    def resolve_service_areas(self, info):
        return list(self.service_areas.all())

    def resolve_skills(self, info):
        VolunteerType._personal(self, info)  # decides certificate visibility for the skills
        skills = list(self.skills.all())
        for s in skills:
            s.volunteer = self
        return skills

    def resolve_availability(self, info):
        return list(self.windows.all())

    def resolve_is_on_duty(self, info):
        return self.is_on_duty()

    def resolve_is_available_now(self, info):
        return self.is_available()

    def resolve_home_location(self, info):
        if self.point is None or not VolunteerType._personal(self, info):
            return None
        return Location(latitude=self.lat, longitude=self.lng)

    def resolve_temporary_location(self, info):
        if not self.has_temporary_location() or not VolunteerType._personal(self, info):
            return None
        return TemporaryLocation(location=Location(latitude=self.temp_lat, longitude=self.temp_lng), until=self.temp_location_until)

    def resolve_sms_reachable(self, info):
        return self.sms_unreachable_reason() is None

    def resolve_sms_unreachable_reason(self, info):
        reason = self.sms_unreachable_reason()
        return reason.value if reason else None

    def resolve_suspended_reason(self, info):
        return self.suspended_reason or None

    def resolve_record(self, info):
        return VolunteerRecord(
            offered=self.offered_count, accepted=self.accepted_count, declined=self.declined_count,
            expired=self.expired_count, completed=self.completed_count, withdrawn=self.withdrawn_count,
            reliability=round(self.reliability, 4),
            response_rate=None if self.response_rate is None else round(self.response_rate, 4),
        )


def optimise_volunteers(queryset):
    """Everything a Volunteer node shows, in a fixed number of queries for any page size."""
    return queryset.with_opt_out().select_related("user", "area").prefetch_related(
        "service_areas",
        "windows",
        Prefetch("skills", queryset=VolunteerSkill.objects.select_related("skill").order_by("skill__sort_order")),
    )


class PartyMemberRegistrationType(DjangoObjectType):
    status = graphene.Field(PartyRegistrationStatusEnum, required=True)
    community = graphene.Field(AreaType, required=True)
    phone = graphene.String(description="Masked unless it is you or you may see personal data.")
    home_address = graphene.String(description="Only for the member and staff who may see personal data.")
    home_location = graphene.Field(Location, description="Same visibility as homeAddress.")
    confirmed_by_name = graphene.String()
    reason = graphene.String(description="Why it was rejected or ended.")

    class Meta:
        model = PartyMemberRegistration
        name = "PartyMemberRegistration"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = (
            "id", "status", "community", "name", "work_unit", "party_branch", "created_at",
            "confirmed_at", "rejected_at", "ended_at", "reason",
        )

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = access.visible_registrations(_viewer(info)).values("pk")
        return queryset.filter(pk__in=visible).select_related("user", "community", "confirmed_by")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(PartyMemberRegistration.objects.filter(pk=id), info).first()

    def _personal(self, info) -> bool:
        if not hasattr(self, "_show_personal"):
            self._show_personal = access.can_see_registration_personal_data(_viewer(info), self)
        return self._show_personal

    def resolve_status(self, info):
        return plain(self.status)

    def resolve_phone(self, info):
        return _masked_phone(self.user, PartyMemberRegistrationType._personal(self, info))

    def resolve_home_address(self, info):
        return self.home_address if PartyMemberRegistrationType._personal(self, info) else None

    def resolve_home_location(self, info):
        if self.point is None or not PartyMemberRegistrationType._personal(self, info):
            return None
        return Location(latitude=self.lat, longitude=self.lng)

    def resolve_confirmed_by_name(self, info):
        by = self.confirmed_by
        return by.public_name if by else None

    def resolve_reason(self, info):
        return self.reason or None
