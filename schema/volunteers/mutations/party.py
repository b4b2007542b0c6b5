"""Party-member check-in (党员报到): registering, and community staff deciding."""

import graphene

from community.models import Area
from volunteers import access
from volunteers.models import PartyMemberRegistration
from volunteers.services import RegistrationSpec, do_decide_registration, do_register_party_member

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ..inputs import PartyMemberRegistrationInput, optional_point
from ..types import PartyMemberRegistrationType


class RegisterAsPartyMember(BaseMutation):
    """Register with the community where you live; its staff confirm. One active
    registration per person."""

    registration = graphene.Field(PartyMemberRegistrationType)

    class Arguments:
        input = PartyMemberRegistrationInput(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input):
        user = current_user(info)
        community = get_node_or_error(Area, input["community_id"], "community_id")
        spec = RegistrationSpec(
            name=input["name"], work_unit=input["work_unit"], party_branch=input["party_branch"],
            home_address=input["home_address"], home=optional_point(input.get("home_location"), "home_location"),
        )
        return cls(errors=[], registration=do_register_party_member(user, community, spec))


class _RegistrationDecision(BaseMutation):
    decision = ""
    registration = graphene.Field(PartyMemberRegistrationType)

    class Meta:
        abstract = True

    @classmethod
    def perform_mutation(cls, root, info, registration_id, reason=""):
        user = current_user(info)
        registration = get_node_or_error(PartyMemberRegistration.objects.select_related("community", "user"), registration_id, "registration_id")
        if not cls.allowed(user, registration):
            raise PermissionDenied()
        registration = do_decide_registration(registration, cls.decision, by=user, reason=reason)
        return cls(errors=[], registration=registration)

    @classmethod
    def allowed(cls, user, registration) -> bool:
        return access.can_manage_registration(user, registration)


class ConfirmPartyMemberRegistration(_RegistrationDecision):
    """PENDING -> CONFIRMED. Staff with MANAGE_PEOPLE over the community."""

    decision = "confirm"

    class Arguments:
        registration_id = graphene.ID(required=True)

    class Meta:
        idempotent = True


class RejectPartyMemberRegistration(_RegistrationDecision):
    """PENDING -> REJECTED, with a reason."""

    decision = "reject"

    class Arguments:
        registration_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    class Meta:
        idempotent = True


class EndPartyMemberRegistration(_RegistrationDecision):
    """PENDING or CONFIRMED -> ENDED (moved away, transferred). Community staff, or the
    member themself."""

    decision = "end"

    class Arguments:
        registration_id = graphene.ID(required=True)
        reason = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def allowed(cls, user, registration) -> bool:
        return registration.user_id == user.pk or access.can_manage_registration(user, registration)
