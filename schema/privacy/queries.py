"""Who read whose personal data: the access log for auditors and community admins (their
subtree), and for a resident the reads of their own record."""

from __future__ import annotations

import graphene
from django.db.models import Q
from graphene_django import DjangoConnectionField

from community.consent import consent_text, current_version
from community.models import Resident
from community.permissions import Action, scope_q
from privacy.models import AccessLog, SubjectKind

from ..community.people_queries import area_in_scope
from ..community.people_types import ConsentKindEnum
from ..community.types import LanguageEnum
from ..core.errors import PermissionDenied
from ..core.permissions import current_user
from ..core.types import decode_id, plain
from .rights import RightsQueries
from .sessions import SessionQueries
from .types import AccessLogEntryType


class ConsentText(graphene.ObjectType):
    kind = graphene.Field(ConsentKindEnum, required=True)
    version = graphene.String(required=True, description="Send it back as textVersion when recording the consent.")
    text = graphene.String(required=True)


class PrivacyQueries(RightsQueries, SessionQueries, graphene.ObjectType):
    consent_text = graphene.Field(ConsentText, required=True, kind=ConsentKindEnum(required=True), language=LanguageEnum(),
                                  description="The consent text in force, to show before asking (public).")
    access_log = DjangoConnectionField(
        AccessLogEntryType,
        area_id=graphene.ID(description="Only reads of people in this area's subtree."),
        resident_id=graphene.ID(description="Only reads of this resident."),
        since=graphene.DateTime(), until=graphene.DateTime(),
        description="Reads of sensitive personal data in your area, newest first (auditors, community admins).",
    )
    my_record_access_log = DjangoConnectionField(
        AccessLogEntryType, description="Who read your personal data, newest first (your own reads are not listed).",
    )

    def resolve_consent_text(root, info, kind, language=None):
        kind = plain(kind)
        return ConsentText(kind=kind, version=current_version(kind), text=consent_text(kind, plain(language) or "zh-hans"))

    def resolve_access_log(root, info, area_id=None, resident_id=None, since=None, until=None, **kwargs):
        user = current_user(info)
        scope = scope_q(user, Action.VIEW_ACCESS_LOG, "area_path")
        if scope == Q(pk__in=[]):
            raise PermissionDenied()
        qs = AccessLog.objects.filter(scope)
        if area_id is not None:
            qs = qs.filter(area_path__startswith=area_in_scope(info, area_id, Action.VIEW_ACCESS_LOG).path)
        if resident_id is not None:
            qs = qs.filter(subject_kind=SubjectKind.RESIDENT, subject_id=decode_id(resident_id, "Resident", "resident_id"))
        if since is not None:
            qs = qs.filter(at__gte=since)
        if until is not None:
            qs = qs.filter(at__lt=until)
        return qs.order_by("-at", "-id")

    def resolve_my_record_access_log(root, info, **kwargs):
        user = current_user(info)
        mine = Q(subject_user_id=user.pk)
        resident_ids = list(Resident.objects.filter(user=user).values_list("pk", flat=True))
        if resident_ids:
            mine |= Q(subject_kind=SubjectKind.RESIDENT, subject_id__in=resident_ids)
        return AccessLog.objects.filter(mine).exclude(actor_id=user.pk).order_by("-at", "-id")
