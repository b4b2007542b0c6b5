"""Staff decisions on volunteers, within the area where the volunteer signed up."""

import graphene

from volunteers import access
from volunteers.models import Volunteer
from volunteers.services import do_decide_volunteer

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ..types import VolunteerType


class _VolunteerDecision(BaseMutation):
    decision = ""
    volunteer = graphene.Field(VolunteerType)

    class Meta:
        abstract = True

    @classmethod
    def perform_mutation(cls, root, info, volunteer_id, reason=""):
        user = current_user(info)
        volunteer = get_node_or_error(Volunteer.objects.select_related("area", "user"), volunteer_id, "volunteer_id")
        if not access.can_manage_volunteer(user, volunteer):
            raise PermissionDenied()
        volunteer = do_decide_volunteer(volunteer, cls.decision, by=user, reason=reason)
        return cls(errors=[], volunteer=volunteer)


class ApproveVolunteer(_VolunteerDecision):
    """PENDING -> APPROVED. Staff with MANAGE_PEOPLE over the sign-up area."""

    decision = "approve"

    class Arguments:
        volunteer_id = graphene.ID(required=True)

    class Meta:
        idempotent = True


class SuspendVolunteer(_VolunteerDecision):
    """PENDING or APPROVED -> SUSPENDED, with a reason; they go off duty at once."""

    decision = "suspend"

    class Arguments:
        volunteer_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    class Meta:
        idempotent = True


class ReinstateVolunteer(_VolunteerDecision):
    """SUSPENDED -> APPROVED."""

    decision = "reinstate"

    class Arguments:
        volunteer_id = graphene.ID(required=True)

    class Meta:
        idempotent = True
