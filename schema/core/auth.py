"""Access tokens (JWT, via django-graphql-jwt) for HTTP and WebSocket alike."""

from __future__ import annotations

from graphql_jwt.exceptions import JSONWebTokenError
from graphql_jwt.shortcuts import create_refresh_token, get_token
from graphql_jwt.utils import get_payload, get_user_by_payload


def user_from_token(token: str):
    """The active user the access token names; raises JSONWebTokenError (or Expired)."""
    payload = get_payload(token)
    user = get_user_by_payload(payload)
    if user is None or not user.is_active:
        raise JSONWebTokenError("User is disabled or no longer exists.")
    return user


def issue_tokens(user) -> dict:
    """Access and refresh tokens for a user who has just proved who they are."""
    return {"token": get_token(user), "refresh_token": str(create_refresh_token(user))}


def token_expiry(token: str) -> int | None:
    try:
        return int(get_payload(token).get("exp"))
    except Exception:  # noqa: BLE001
        return None
