import graphene
from django.core.exceptions import ValidationError

from notifications.login import LoginCodeError, check_phone, verify_login_code

from ...community.types import UserType
from ...core.auth import issue_tokens, login_retry_key, remember_tokens, replayed_tokens
from ...core.errors import validation_error_to_list
from ...core.mutations import BaseMutation
from .request_login_code import client_address


class VerifyLoginCode(BaseMutation):
    """Exchange the texted code for tokens (as tokenAuth). The first login creates the account.

    Sent again with the same `idempotencyKey`, phone and code within TOKEN_RETRY_GRACE_SECONDS
    of a success (the answer was lost), it returns the same tokens, while their refresh token
    has not been used or revoked."""

    checks_secret = True  # one per document (schema.core.validation)

    token = graphene.String()
    refresh_token = graphene.String()
    user = graphene.Field(UserType)

    class Arguments:
        phone = graphene.String(required=True)
        code = graphene.String(required=True)
        idempotency_key = graphene.String(
            description="Client-generated key (a UUID); a retry after a lost answer gets the same tokens.")

    class Meta:
        login_required = False
        commit_returned_errors = True  # a wrong code's counted attempt must stick

    @classmethod
    def perform_mutation(cls, root, info, phone, code, **retry):
        key = (retry.get("idempotency_key") or "")[:255]
        retry_key = None
        if key:
            try:
                retry_key = login_retry_key(check_phone(phone), key)
            except ValidationError:
                retry_key = None
        if retry_key:
            replay = replayed_tokens("VerifyLoginCode", retry_key, code.strip())
            if replay is not None:
                info.context.user = replay[0]
                return cls(errors=[], token=replay[1]["token"], refresh_token=replay[1]["refresh_token"], user=replay[0])
        try:
            user = verify_login_code(phone, code, client_address=client_address(info))
        except LoginCodeError as exc:
            # Returned, not raised: the counted attempt must commit (a rollback would allow
            # unlimited guesses).
            return cls(errors=validation_error_to_list(exc))
        info.context.user = user
        tokens = issue_tokens(user)
        if retry_key:
            remember_tokens(user, "VerifyLoginCode", retry_key, code.strip(), tokens)
        return cls(errors=[], token=tokens["token"], refresh_token=tokens["refresh_token"], user=user)
