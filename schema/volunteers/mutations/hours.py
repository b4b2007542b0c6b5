"""Service hours: staff correct entries (as new entries) and export a community's ledger."""

import base64

import graphene

from community.models import Area
from core.errors import ValidationError
from volunteers import access
from volunteers.error_codes import VolunteersErrorCode as Code
from volunteers.models import ServiceHoursEntry, ServiceHoursKind
from volunteers.services import export_service_hours, record_service_hours

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ..activity_types import ExportedFile, ExportFormatEnum, ServiceHoursEntryType


class CorrectServiceHours(BaseMutation):
    """Add (positive) or remove (negative) hours from an entry, with a reason. The original
    stays; the correction is a new entry. Staff with MANAGE_PEOPLE over the community."""

    entry = graphene.Field(ServiceHoursEntryType, description="The new correcting entry.")

    class Arguments:
        entry_id = graphene.ID(required=True, description="The entry to correct.")
        hours = graphene.Decimal(required=True, description="e.g. -1.5 or 0.75")
        reason = graphene.String(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, entry_id, hours, reason):
        user = current_user(info)
        entry = get_node_or_error(ServiceHoursEntry.objects.select_related("community", "user"), entry_id, "entry_id")
        if not access.can_correct_hours(user, entry.community):
            raise PermissionDenied()
        correction = record_service_hours(
            entry.user, entry.community, hours, kind=ServiceHoursKind.CORRECTION,
            corrects=entry, created_by=user, reason=reason,
        )
        return cls(errors=[], entry=correction)


class ExportServiceHours(BaseMutation):
    """A community's ledger as CSV or Excel, base64-encoded in the payload (up to 50,000
    entries; narrow the dates beyond). Staff with VIEW_PEOPLE over the community."""

    file = graphene.Field(ExportedFile)

    class Arguments:
        community_id = graphene.ID(required=True)
        format = ExportFormatEnum(default_value="xlsx")
        from_ = graphene.Date(name="from", description="First day (Asia/Shanghai); omit both for the whole ledger.")
        to = graphene.Date(description="Last day, inclusive.")

    @classmethod
    def perform_mutation(cls, root, info, community_id, format="xlsx", from_=None, to=None):
        user = current_user(info)
        community = get_node_or_error(Area, community_id, "community_id")
        if not access.can_view_community_hours(user, community):
            raise PermissionDenied()
        if from_ is not None or to is not None:
            from_, to = _dates(from_, to)
        exported = export_service_hours(community, getattr(format, "value", format), from_, to, user.preferred_language,
                                        exported_by=user)
        return cls(errors=[], file=ExportedFile(
            filename=exported.filename, content_type=exported.content_type,
            content_base64=base64.b64encode(exported.content).decode("ascii"), row_count=exported.row_count,
        ))


def _dates(start, end):
    if start is None or end is None:
        raise ValidationError({"from": "Give both from and to, or neither."}, code=Code.INVALID_DATE_RANGE)
    if start > end:
        raise ValidationError({"from": "The range starts after it ends."}, code=Code.INVALID_DATE_RANGE)
    return start, end
