"""Staff log in with username and password (and, for staff with an authenticator app, its
code); everyone refreshes and revokes the same way.

- Password login is rate-limited (community/login.py): per username and address, per address,
  and per username from unknown devices; a device that logged in before presents its
  `deviceToken` and has a budget of its own, so nobody's guesses lock its owner out.
- A second factor for staff (community/otp.py): OTP_REQUIRED, OTP_INVALID, or
  OTP_ENROLMENT_REQUIRED with an `enrolmentToken` (mobile_api_docs/community.md, "Staff login").
- Refresh rotates: the refresh token used is revoked in the same transaction that issues the
  next one. A refresh token used again after it was rotated or revoked (logged out) is the
  sign of a stolen copy: every live refresh token of that person is revoked, and they log in
  again. A deactivated account cannot refresh. The exception is a retry whose answer was lost:
  within TOKEN_RETRY_GRACE_SECONDS it gets the same new pair (while that pair is unused).
"""

import graphene
import graphql_jwt
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from graphql_jwt.exceptions import JSONWebTokenError
from graphql_jwt.refresh_token.utils import get_refresh_token_model

from community.error_codes import CommunityErrorCode
from community.login import KnownDevice, known_device, known_device_token, password_login_wait
from community.otp import SecondFactorError, check_second_factor, enrolment_token

from ...core.auth import remember_tokens, replayed_tokens
from ...core.errors import UserFacingError
from ...core.throttle import client_address


def _throttle_password_login(info, username: str, device: KnownDevice | None) -> None:
    seconds = password_login_wait(username, client_address(info), device)
    if seconds:
        raise UserFacingError(f"Too many login attempts; try again in {seconds} seconds.", "RATE_LIMITED",
                              retryAfter=seconds)


def second_factor_refusal(user, exc: SecondFactorError) -> UserFacingError:
    extensions: dict = {"enrolmentToken": enrolment_token(user)} if exc.code == CommunityErrorCode.OTP_ENROLMENT_REQUIRED else {}
    if exc.retry_after is not None:
        extensions["retryAfter"] = exc.retry_after
    return UserFacingError(exc.message, exc.code.upper(), **extensions)


class TokenAuth(graphql_jwt.ObtainJSONWebToken):
    """Staff login: username + password (+ the authenticator's code) -> access token, refresh
    token, and a deviceToken to send with the next login from this device."""

    checks_secret = True  # one per document (schema.core.validation)
    device_token = graphene.String(description="Keep it on this device and send it with every later login.")

    class Arguments:
        otp = graphene.String(description="The authenticator app's 6-digit code, or a recovery code (staff who enrolled).")
        device_token = graphene.String(description="The deviceToken this device received at its last login.")

    @classmethod
    def mutate(cls, root, info, **kwargs):
        username = kwargs.get("username", "")
        _throttle_password_login(info, username, known_device(kwargs.get("device_token"), username))
        return super().mutate(root, info, **kwargs)

    @classmethod
    def resolve(cls, root, info, otp=None, device_token=None, **kwargs):
        user = info.context.user  # the password was right (graphql_jwt's token_auth)
        try:
            check_second_factor(user, otp)
        except SecondFactorError as exc:
            raise second_factor_refusal(user, exc)
        return cls(device_token=known_device_token(user, known_device(device_token, user.username)))


class RefreshToken(graphql_jwt.Refresh):
    """A refresh token -> a new access token and a new refresh token; the old one stops working.
    The same refresh token sent again within TOKEN_RETRY_GRACE_SECONDS (the answer was lost)
    gets the same new pair, as long as that new refresh token has not been used or revoked."""

    @classmethod
    def mutate(cls, root, info, refresh_token=None, **kwargs):
        model = get_refresh_token_model()
        with transaction.atomic():  # (the refusals are written before they are raised)
            used = (model.objects.select_for_update().select_related("user")
                    .filter(token=refresh_token or "").order_by("-id").first())
            replay = None
            if used is not None and used.revoked is not None:
                replay = replayed_tokens("RefreshToken", f"refresh:{used.pk}", refresh_token or "", user=used.user)
            refused = replay is None and used is not None and (used.revoked is not None or not used.user.is_active)
            if replay is not None:
                stored = replay[1]
                result = cls(payload=stored["payload"], refresh_expires_in=stored["refresh_expires_in"])
                result.token, result.refresh_token = stored["token"], stored["refresh_token"]
            elif refused:
                # Rotated or logged out and presented again (someone holds a copy), or the
                # account was closed: every live refresh token of the person is revoked.
                model.objects.filter(user_id=used.user_id, revoked__isnull=True).update(revoked=timezone.now())
            else:
                result = super().mutate(root, info, refresh_token=refresh_token, **kwargs)
                # graphql_jwt's new refresh token is a lazy string that creates a row each
                # time it is read: read it once.
                result.refresh_token = str(result.refresh_token)
                if used is not None:
                    used.revoke(info.context)
                    remember_tokens(used.user, "RefreshToken", f"refresh:{used.pk}", refresh_token or "", {
                        "token": result.token, "refresh_token": result.refresh_token,
                        "payload": result.payload, "refresh_expires_in": result.refresh_expires_in})
        if refused:
            raise JSONWebTokenError(_("Invalid refresh token"))
        return result


class RevokeToken(graphql_jwt.Revoke):
    """Log out a device: its refresh token stops working."""
