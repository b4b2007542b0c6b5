"""Your sessions: the devices holding a live refresh token, and ending one (issue 21).

A session is a chain of refresh tokens (refresh rotates: each use revokes the old token and
issues the next), so its live token is the session; `lastRefreshedAt` is when its device last
renewed. Revoking ends it at once for refresh; the device's access token (JWT_ACCESS_MINUTES,
15 by default) is not renewed after that.
"""

from __future__ import annotations

import graphene
from django.conf import settings
from django.utils import timezone
from graphql_jwt.refresh_token.utils import get_refresh_token_model

from community.error_codes import CommunityErrorCode
from core.errors import field_error

from ..core.mutations import BaseMutation
from ..core.permissions import current_user
from ..core.types import decode_id


def live_sessions(user):
    oldest = timezone.now() - settings.GRAPHQL_JWT["JWT_REFRESH_EXPIRATION_DELTA"]
    return get_refresh_token_model().objects.filter(user=user, revoked__isnull=True, created__gt=oldest)


class Session(graphene.ObjectType):
    id = graphene.ID(required=True)
    last_refreshed_at = graphene.DateTime(required=True, description="When its device last renewed its access token.")
    expires_at = graphene.DateTime(required=True, description="When it ends unless renewed.")

    @staticmethod
    def of(token) -> Session:
        return Session(id=graphene.Node.to_global_id("Session", token.pk), last_refreshed_at=token.created,
                       expires_at=token.created + settings.GRAPHQL_JWT["JWT_REFRESH_EXPIRATION_DELTA"])


class RevokeSession(BaseMutation):
    """End one of your sessions (a lost phone, a shared computer)."""

    revoked = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, id):
        user = current_user(info)
        token = live_sessions(user).filter(pk=decode_id(id, "Session", "id")).first()
        if token is None:
            raise field_error("id", "No such session of yours.", CommunityErrorCode.NOT_FOUND)
        token.revoke()
        return cls(errors=[], revoked=True)


class SessionQueries(graphene.ObjectType):
    my_sessions = graphene.List(graphene.NonNull(Session), required=True,
                                description="Your live sessions (devices that may renew their access), newest first.")

    def resolve_my_sessions(root, info):
        user = current_user(info)
        return [Session.of(t) for t in live_sessions(user).order_by("-created", "-pk")]


class SessionMutations(graphene.ObjectType):
    revoke_session = RevokeSession.Field()
