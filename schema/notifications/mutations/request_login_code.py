import graphene

from notifications.login import request_login_code

from ...core.mutations import BaseMutation
from ...core.throttle import client_address


class RequestLoginCode(BaseMutation):
    """Text a six-digit login code to a phone. The answer is the same for every valid number."""

    sent = graphene.Boolean()
    expires_in_seconds = graphene.Int()
    resend_after_seconds = graphene.Int(description="Wait this long before asking again.")

    class Arguments:
        phone = graphene.String(required=True, description="E.164 (+8613800138000) or a national number.")

    class Meta:
        login_required = False

    @classmethod
    def perform_mutation(cls, root, info, phone):
        result = request_login_code(phone, client_address=client_address(info))
        return cls(errors=[], sent=True, expires_in_seconds=result.expires_in, resend_after_seconds=result.resend_after)
