"""Errors as data (mutation payloads) and the few errors that stop a request.

Mutations return `errors: [Error!]!` with a stable `code` a mobile app switches on. Failing
authorization raises PermissionDenied, a top-level GraphQL error with extensions.code
FORBIDDEN (or UNAUTHENTICATED) that changes nothing. Anything unexpected is logged with an
errorId and shown as a generic message (see schema/core/views.py format_error).
"""

from __future__ import annotations

from enum import StrEnum

import graphene
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from community.error_codes import CommunityErrorCode
from community.geo import GeoErrorCode
from core.errors import CoreErrorCode
from emergency.error_codes import EmergencyErrorCode
from notifications.error_codes import NotificationsErrorCode
from resources.error_codes import ResourcesErrorCode
from volunteers.error_codes import VolunteersErrorCode


class CommonErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNIQUE = "unique"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"


# Every app's error-code enum, so that ErrorCode lists every code in one enum.
APP_ERROR_CODES: tuple[type[StrEnum], ...] = (
    CommonErrorCode, CoreErrorCode, CommunityErrorCode, GeoErrorCode, VolunteersErrorCode, EmergencyErrorCode,
    NotificationsErrorCode, ResourcesErrorCode,
)
ALL_CODES: frozenset[str] = frozenset(member.value for enum_cls in APP_ERROR_CODES for member in enum_cls)


ErrorCode = graphene.Enum(
    "ErrorCode",
    [(code.upper(), code) for code in sorted(ALL_CODES)],
    description="Stable error codes; switch on these, never on message text.",
)


class Error(graphene.ObjectType):
    field = graphene.String(description="The input field at fault, or null for the whole input.")
    message = graphene.String(required=True, description="For developers and logs (English); show people your own text chosen by `code`.")
    code = graphene.Field(ErrorCode, required=True)
    retry_after = graphene.Int(description="With RATE_LIMITED: seconds to wait before trying again (null otherwise).")


def validation_error_to_list(exc: ValidationError) -> list[dict]:
    errors: list[dict] = []
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.error_dict.items():
            for err in field_errors:
                errors.append(_one(field, err, exc))
    else:
        for err in exc.error_list:
            errors.append(_one(None, err, exc))
    return errors


def _one(field: str | None, err: ValidationError, parent: ValidationError) -> dict:
    message = err.message % err.params if err.params else err.message
    code = err.code or getattr(parent, "code", None) or CommonErrorCode.INVALID
    if code not in ALL_CODES:
        code = CommonErrorCode.INVALID
    one: dict[str, str | int | None] = {
        "field": None if field in (None, "__all__") else _camel(field),
        "message": str(message),
        "code": str(code),
    }
    retry_after = err.params.get("retry_after") if isinstance(err.params, dict) else None
    if isinstance(retry_after, int | float):
        one["retry_after"] = int(retry_after)  # RATE_LIMITED: `retryAfter` (null otherwise)
    return one


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


class PermissionDenied(GraphQLError):
    """Raised when the caller may not do this; the request changes nothing."""

    def __init__(self, message: str = "You do not have permission to perform this action.", code: str = "FORBIDDEN"):
        super().__init__(message, extensions={"code": code})


class NotAuthenticated(PermissionDenied):
    def __init__(self, message: str = "Authentication required."):
        super().__init__(message, code="UNAUTHENTICATED")


class UserFacingError(GraphQLError):
    """A top-level error whose message is safe to show (e.g. rate limits on queries)."""

    def __init__(self, message: str, code: str, **extensions):
        super().__init__(message, extensions={"code": code, **extensions})
