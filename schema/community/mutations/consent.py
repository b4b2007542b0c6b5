"""Consent: a resident records theirs in the app; staff record one given on paper, by phone
or in person (community/consent.py)."""

from __future__ import annotations

import graphene

from community.consent import record_consent
from community.error_codes import CommunityErrorCode
from community.models import ConsentChannel, Resident
from community.privacy import may_manage
from core.errors import field_error

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.types import plain
from ..people_types import ConsentChannelEnum, ConsentKindEnum, ConsentRecordType, ResidentType


class RecordMyConsent(BaseMutation):
    """Give or withdraw your consent (channel APP). `textVersion` is the version of the text
    you showed (consentText); an older one is refused with CONSENT_TEXT_OUTDATED."""

    consent = graphene.Field(ConsentRecordType)
    resident = graphene.Field(ResidentType)

    class Arguments:
        kind = ConsentKindEnum(required=True)
        granted = graphene.Boolean(required=True)
        text_version = graphene.String(required=True)

    @classmethod
    def perform_mutation(cls, root, info, kind, granted, text_version):
        user = current_user(info)
        resident = Resident.objects.filter(user=user).first()
        if resident is None:
            raise field_error(None, "Register your resident profile first.", CommunityErrorCode.NOT_FOUND)
        record = record_consent(resident, kind=plain(kind), granted=granted, text_version=text_version,
                                channel=ConsentChannel.APP, by=user)
        resident.refresh_from_db()
        return cls(errors=[], consent=record, resident=resident)


class RecordResidentConsent(BaseMutation):
    """Staff of the resident's area record a consent the resident gave (or withdrew) on paper,
    by phone or in person."""

    consent = graphene.Field(ConsentRecordType)
    resident = graphene.Field(ResidentType)

    class Arguments:
        resident_id = graphene.ID(required=True)
        kind = ConsentKindEnum(required=True)
        granted = graphene.Boolean(required=True)
        text_version = graphene.String(required=True)
        channel = ConsentChannelEnum(required=True, description="PAPER, PHONE_CALL or IN_PERSON")

    @classmethod
    def perform_mutation(cls, root, info, resident_id, kind, granted, text_version, channel):
        user = current_user(info)
        resident = get_node_or_error(Resident.objects.select_related("grid"), resident_id, "resident_id")
        if not may_manage(user, resident):
            raise PermissionDenied()
        if plain(channel) == ConsentChannel.APP:
            raise field_error("channel", "A consent in the app is given by the resident (recordMyConsent).",
                              CommunityErrorCode.INVALID)
        record = record_consent(resident, kind=plain(kind), granted=granted, text_version=text_version,
                                channel=plain(channel), by=user)
        resident.refresh_from_db()
        return cls(errors=[], consent=record, resident=resident)
