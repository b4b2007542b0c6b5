import graphene

from notifications.login import LoginCodeError, verify_login_code

from ...community.types import UserType
from ...core.auth import issue_tokens
from ...core.errors import validation_error_to_list
from ...core.mutations import BaseMutation
from .request_login_code import client_address


class VerifyLoginCode(BaseMutation):
    """Exchange the texted code for tokens (as tokenAuth). The first login creates the account."""

    checks_secret = True  # one per document (schema.core.validation)

    token = graphene.String()
    refresh_token = graphene.String()
    user = graphene.Field(UserType)

    class Arguments:
        phone = graphene.String(required=True)
        code = graphene.String(required=True)

    class Meta:
        login_required = False
        commit_returned_errors = True  # a wrong code's counted attempt must stick

    @classmethod
    def perform_mutation(cls, root, info, phone, code):
        try:
            user = verify_login_code(phone, code, client_address=client_address(info))
        except LoginCodeError as exc:
            # Returned, not raised: the counted attempt must commit (a rollback would allow
            # unlimited guesses).
            return cls(errors=validation_error_to_list(exc))
        info.context.user = user
        tokens = issue_tokens(user)
        return cls(errors=[], token=tokens["token"], refresh_token=tokens["refresh_token"], user=user)
