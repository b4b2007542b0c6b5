"""Staff log in with username and password; everyone refreshes and revokes the same way.

- Password login is rate-limited per username and per client address (RATE_LIMITED with
  retryAfter), so a password cannot be guessed at the speed of the network.
- Refresh rotates: the refresh token used is revoked in the same transaction that issues the
  next one. A refresh token used again after it was rotated or revoked (logged out) is the
  sign of a stolen copy: every live refresh token of that person is revoked, and they log in
  again. A deactivated account cannot refresh.
"""

import graphql_jwt
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from graphql_jwt.exceptions import JSONWebTokenError
from graphql_jwt.refresh_token.utils import get_refresh_token_model

from community.login import password_login_wait

from ...core.errors import UserFacingError
from ...core.throttle import client_address


def _throttle_password_login(info, username: str) -> None:
    seconds = password_login_wait(username, client_address(info))
    if seconds:
        raise UserFacingError(f"Too many login attempts; try again in {seconds} seconds.", "RATE_LIMITED",
                              retryAfter=seconds)


class TokenAuth(graphql_jwt.ObtainJSONWebToken):
    """Staff login: username + password -> access token and refresh token."""

    checks_secret = True  # one per document (schema.core.validation)

    @classmethod
    def mutate(cls, root, info, **kwargs):
        _throttle_password_login(info, kwargs.get("username", ""))
        return super().mutate(root, info, **kwargs)


class RefreshToken(graphql_jwt.Refresh):
    """A refresh token -> a new access token and a new refresh token; the old one stops working."""

    @classmethod
    def mutate(cls, root, info, refresh_token=None, **kwargs):
        model = get_refresh_token_model()
        with transaction.atomic():  # (the refusals are written before they are raised)
            used = (model.objects.select_for_update().select_related("user")
                    .filter(token=refresh_token or "").order_by("-id").first())
            refused = used is not None and (used.revoked is not None or not used.user.is_active)
            if refused:
                # Rotated or logged out and presented again (someone holds a copy), or the
                # account was closed: every live refresh token of the person is revoked.
                model.objects.filter(user_id=used.user_id, revoked__isnull=True).update(revoked=timezone.now())
            else:
                result = super().mutate(root, info, refresh_token=refresh_token, **kwargs)
                if used is not None:
                    used.revoke(info.context)
        if refused:
            raise JSONWebTokenError(_("Invalid refresh token"))
        return result


class RevokeToken(graphql_jwt.Revoke):
    """Log out a device: its refresh token stops working."""
