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


class CommonErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNIQUE = "unique"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"


# Each app's error-code enum is registered here so ErrorCode lists every code in one enum.
_registered: list[type[StrEnum]] = [CommonErrorCode]


def register_error_codes(enum_cls: type[StrEnum]) -> None:
    if enum_cls not in _registered:
        _registered.append(enum_cls)


def _all_codes() -> list[str]:
    from community.error_codes import CommunityErrorCode
    from community.geo import GeoErrorCode

    register_error_codes(CommunityErrorCode)
    register_error_codes(GeoErrorCode)
    try:
        from volunteers.error_codes import VolunteersErrorCode  # type: ignore[attr-defined]

        register_error_codes(VolunteersErrorCode)
    except ImportError:
        pass
    try:
        from notifications.error_codes import NotificationsErrorCode  # type: ignore[attr-defined]

        register_error_codes(NotificationsErrorCode)
    except ImportError:
        pass
    codes: dict[str, None] = {}
    for enum_cls in _registered:
        for member in enum_cls:
            codes[member.value] = None
    return sorted(codes)


ErrorCode = graphene.Enum(
    "ErrorCode",
    [(code.upper(), code) for code in _all_codes()],
    description="Stable error codes; switch on these, never on message text.",
)


class Error(graphene.ObjectType):
    field = graphene.String(description="The input field at fault, or null for the whole input.")
    message = graphene.String(required=True, description="For developers and logs (English); show people your own text chosen by `code`.")
    code = graphene.Field(ErrorCode, required=True)


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
    if code not in set(_all_codes()):
        code = CommonErrorCode.INVALID
    return {
        "field": None if field in (None, "__all__") else _camel(field),
        "message": str(message),
        "code": str(code),
    }


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
