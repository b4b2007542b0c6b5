"""Access tokens (JWT, via django-graphql-jwt) for HTTP and WebSocket alike."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from graphql_jwt.exceptions import JSONWebTokenError
from graphql_jwt.refresh_token.utils import get_refresh_token_model
from graphql_jwt.settings import jwt_settings
from graphql_jwt.shortcuts import create_refresh_token, get_token
from graphql_jwt.utils import get_payload

from community.models import IdempotencyRecord


class AccountDisabled(JSONWebTokenError):
    """A good token of an account that was closed or disabled since."""


def user_from_token(token: str):
    """The active user the access token names; raises JSONWebTokenError (or Expired, or
    AccountDisabled)."""
    payload = get_payload(token)
    username = jwt_settings.JWT_PAYLOAD_GET_USERNAME_HANDLER(payload)
    if not username:
        raise JSONWebTokenError("Invalid payload")
    user = jwt_settings.JWT_GET_USER_BY_NATURAL_KEY_HANDLER(username)
    if user is None or not user.is_active:
        raise AccountDisabled("User is disabled or no longer exists.")
    return user


def issue_tokens(user) -> dict:
    """Access and refresh tokens for a user who has just proved who they are."""
    return {"token": get_token(user), "refresh_token": str(create_refresh_token(user))}


def token_expiry(token: str) -> int | None:
    try:
        return int(get_payload(token).get("exp"))
    except Exception:  # noqa: BLE001
        return None


# --- answers that were lost on the way --------------------------------------------------------
# A mobile client whose login or refresh answer was lost sends the same request again. Within
# TOKEN_RETRY_GRACE_SECONDS of the first success it gets the same tokens back, as long as the
# refresh token it was given still works (not rotated further, not logged out).

def _digest(*parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def remember_tokens(user, operation: str, key: str, request: str, tokens: dict) -> None:
    """Keep the tokens just issued for `key` (one per user) so that a retry can have them."""
    IdempotencyRecord.objects.update_or_create(
        user=user, key=key,
        defaults={"operation": operation, "fingerprint": _digest(operation, request), "result": tokens,
                  "created_at": timezone.now()})


def replayed_tokens(operation: str, key: str, request: str, user=None) -> tuple[object, dict] | None:
    """(user, tokens) remembered for `key` when this is a retry of the same request within the
    grace window and the refresh token then issued still works; otherwise None."""
    since = timezone.now() - timedelta(seconds=settings.TOKEN_RETRY_GRACE_SECONDS)
    records = IdempotencyRecord.objects.select_related("user").filter(operation=operation, key=key, created_at__gte=since)
    if user is not None:
        records = records.filter(user=user)
    record = records.order_by("-id").first()
    if record is None or not record.result or not hmac.compare_digest(record.fingerprint, _digest(operation, request)):
        return None
    live = get_refresh_token_model().objects.filter(
        user_id=record.user_id, token=record.result.get("refresh_token") or "", revoked__isnull=True).exists()
    if not live or not record.user.is_active:
        return None
    return record.user, record.result


def login_retry_key(phone: str, idempotency_key: str) -> str:
    """The stored key of a verifyLoginCode retry: the number is not kept in the clear."""
    return "verify-login:" + _digest("phone", phone, idempotency_key)
