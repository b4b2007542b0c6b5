"""Residents, households and emergency contacts, with personal fields masked by role.

Who sees what is decided in community.privacy; each resolver here asks it. Lists are scoped
in get_queryset and get_node repeats the check, so `node(id:)` cannot bypass the scope.
"""

from __future__ import annotations

import graphene
from django.db.models import Q
from graphene_django import DjangoObjectType

from community.models import (
    VULNERABILITY_FLAGS,
    ConsentChannel,
    ConsentKind,
    ConsentRecord,
    EmergencyContact,
    GeocodeStatus,
    Household,
    LegalBasis,
    Resident,
)
from community.permissions import Action, can, scope_q
from community.privacy import is_self, may_see_care_notes, may_see_personal_data, may_view
from core.masking import mask_phone

from ..core.scalars import Location
from ..core.types import CountedConnection, Node
from .types import AreaType, LanguageEnum

VulnerabilityFlagEnum = graphene.Enum(
    "VulnerabilityFlag", [(flag.upper(), flag) for flag in VULNERABILITY_FLAGS],
    description="elderly living alone, disabled, bedridden/reduced mobility, needs power or medicine, pregnant, young children",
)
GeocodeStatusEnum = graphene.Enum.from_enum(GeocodeStatus, description="Where the home location stands")
RelationEnum = graphene.Enum("ContactRelation", [(v.upper(), v) for v in EmergencyContact.Relation.values])
ConsentKindEnum = graphene.Enum.from_enum(ConsentKind, description="CONTACT: non-emergency messages; SENSITIVE_INFORMATION: "
                                                                   "the separate consent to vulnerability and care notes")
ConsentChannelEnum = graphene.Enum.from_enum(ConsentChannel, description="How the consent was given (STAFF: a legal basis "
                                                                         "staff recorded, not a consent)")
LegalBasisEnum = graphene.Enum.from_enum(LegalBasis, description="Why sensitive information is held (PIPL art. 13)")
LEGAL_BASIS_HELP = ("Staff recording vulnerability or care notes of a resident who has not consented to sensitive information "
                    "give the legal basis: STATUTORY_DUTY or EMERGENCY (else LEGAL_BASIS_REQUIRED). Kept with the record.")


class ConsentRecordType(DjangoObjectType):
    """A consent given or withdrawn, or a legal basis staff gave, as it happened."""

    kind = graphene.Field(ConsentKindEnum, required=True)
    channel = graphene.Field(ConsentChannelEnum, required=True)
    legal_basis = graphene.Field(LegalBasisEnum)
    recorded_by_name = graphene.String()

    class Meta:
        model = ConsentRecord
        name = "ConsentRecord"
        fields = ("granted", "text_version", "at")

    def resolve_kind(self, info):
        return self.kind

    def resolve_channel(self, info):
        return self.channel

    def resolve_legal_basis(self, info):
        return self.legal_basis or None

    def resolve_recorded_by_name(self, info):
        return self.recorded_by.public_name if self.recorded_by_id else None


def scope_or_own(user, action: Action, own: Q, path_field: str = "grid__path") -> Q:
    """Rows in the user's scope for `action`, or their own. (Q() | x would be just x, so the
    unrestricted scope of a superuser is handled explicitly.)"""
    scope = scope_q(user, action, path_field)
    return Q() if scope == Q() else scope | own


def location_of(row) -> dict | None:
    return None if row.lat is None or row.lng is None else {"latitude": row.lat, "longitude": row.lng}


class Vulnerability(graphene.ObjectType):
    """The six flags; `isVulnerable` is true when any is set."""

    is_vulnerable = graphene.Boolean(required=True)
    elderly_living_alone = graphene.Boolean(required=True)
    disabled = graphene.Boolean(required=True)
    reduced_mobility = graphene.Boolean(required=True, description="bedridden or reduced mobility")
    needs_power_or_medicine = graphene.Boolean(required=True)
    pregnant = graphene.Boolean(required=True)
    young_children = graphene.Boolean(required=True)


class EmergencyContactType(DjangoObjectType):
    phone = graphene.String()
    relation = graphene.Field(RelationEnum, required=True)
    linked_resident_name = graphene.String()

    class Meta:
        model = EmergencyContact
        name = "EmergencyContact"
        interfaces = (Node,)
        fields = ("id", "name", "relation")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.none()  # reachable only through a resident you may see in full

    @classmethod
    def get_node(cls, info, id):
        contact = EmergencyContact.objects.select_related("resident__grid").filter(pk=id).first()
        if contact is None or not may_see_personal_data(info.context.user, contact.resident):
            return None
        return contact

    def resolve_phone(self, info):
        return self.sms_phone

    def resolve_linked_resident_name(self, info):
        return self.linked_resident.display_name if self.linked_resident_id else None


class ResidentType(DjangoObjectType):
    grid = graphene.Field(AreaType, required=True)
    household = graphene.Field(lambda: HouseholdType)
    phone = graphene.String(description="Full for the resident and for staff with personal-data rights; masked otherwise.")
    address = graphene.String(description="Null when masked.")
    location = graphene.Field(Location, description="Home location (WGS-84); null when masked or unknown.")
    vulnerability = graphene.Field(Vulnerability, description="Null when masked.")
    care_notes = graphene.String(description="Staff of the resident's area only.")
    emergency_contacts = graphene.List(graphene.NonNull(EmergencyContactType), required=True)
    preferred_language = graphene.Field(LanguageEnum, required=True)
    languages = graphene.List(graphene.NonNull(graphene.String), required=True)
    geocode_status = graphene.Field(GeocodeStatusEnum, required=True)
    uses_app = graphene.Boolean(required=True)
    personal_data_visible = graphene.Boolean(required=True, description="False: personal fields are masked for you.")
    sensitive_information_basis = graphene.Field(
        LegalBasisEnum, description="Why vulnerability and care notes are held: CONSENT, or the basis staff gave; null: "
                                    "neither yet. Null when masked.")
    consents = graphene.List(graphene.NonNull(ConsentRecordType), required=True,
                             description="Consent history, newest first; empty when masked.")

    class Meta:
        model = Resident
        name = "Resident"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "display_name", "grid", "household", "consent_to_contact", "prefers_voice", "grid_overridden",
                  "created_at", "updated_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(scope_or_own(user, Action.VIEW_PEOPLE, Q(user=user))).select_related(
            "grid", "household", "user"
        ).prefetch_related("emergency_contacts__linked_resident")

    @classmethod
    def get_node(cls, info, id):
        resident = Resident.objects.select_related("grid", "household", "user").filter(pk=id).first()
        if resident is None or not may_view(info.context.user, resident):
            return None
        return resident

    def resolve_personal_data_visible(self, info):
        return may_see_personal_data(info.context.user, self)

    def resolve_phone(self, info):
        phone = self.sms_phone
        if phone is None:
            return None
        return phone if may_see_personal_data(info.context.user, self) else mask_phone(phone)

    def resolve_address(self, info):
        return self.address if may_see_personal_data(info.context.user, self) else None

    def resolve_location(self, info):
        return location_of(self) if may_see_personal_data(info.context.user, self) else None

    def resolve_vulnerability(self, info):
        if not may_see_personal_data(info.context.user, self):
            return None
        return Vulnerability(is_vulnerable=self.is_vulnerable, **{f: getattr(self, f) for f in VULNERABILITY_FLAGS})

    def resolve_care_notes(self, info):
        return self.care_notes if may_see_care_notes(info.context.user, self) else None

    def resolve_emergency_contacts(self, info):
        if not may_see_personal_data(info.context.user, self):
            return []
        return list(self.emergency_contacts.all())

    def resolve_household(self, info):
        return self.household if may_see_personal_data(info.context.user, self) else None

    def resolve_sensitive_information_basis(self, info):
        return (self.sensitive_basis or None) if may_see_personal_data(info.context.user, self) else None

    def resolve_consents(self, info):
        if not may_see_personal_data(info.context.user, self):
            return []
        return list(self.consents.select_related("recorded_by").order_by("-at", "-id"))

    def resolve_languages(self, info):
        return self.languages or []

    def resolve_uses_app(self, info):
        return self.uses_app


class HouseholdType(DjangoObjectType):
    """A household: its members see each other's names; staff of the area see it in full."""

    grid = graphene.Field(AreaType, required=True)
    address = graphene.String()
    members = graphene.List(graphene.NonNull(ResidentType), required=True)

    class Meta:
        model = Household
        name = "Household"
        interfaces = (Node,)
        fields = ("id", "label", "grid")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(scope_or_own(user, Action.VIEW_PEOPLE, Q(members__user=user))).distinct()

    @classmethod
    def get_node(cls, info, id):
        household = Household.objects.select_related("grid").filter(pk=id).first()
        if household is None or not may_view_household(info.context.user, household):
            return None
        return household

    def resolve_address(self, info):
        user = info.context.user
        return self.address if can(user, Action.VIEW_PERSONAL_DATA, self.grid) or is_member(user, self) else None

    def resolve_members(self, info):
        return list(self.members.select_related("grid", "household", "user").order_by("display_name", "id"))


def is_member(user, household: Household) -> bool:
    return user.is_authenticated and Resident.objects.filter(user=user, household=household).exists()


def may_view_household(user, household: Household) -> bool:
    return can(user, Action.VIEW_PEOPLE, household.grid) or is_member(user, household)


class NearbyResident(graphene.ObjectType):
    resident = graphene.Field(ResidentType, required=True)
    distance_m = graphene.Float(required=True, description="Geodesic distance in metres")


__all__ = ["EmergencyContactType", "HouseholdType", "NearbyResident", "ResidentType", "is_self"]
