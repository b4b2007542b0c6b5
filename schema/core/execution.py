"""Parsing, validation and error formatting shared by the HTTP view and the WebSocket."""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from graphene_django.views import HttpError
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql_jwt.exceptions import JSONWebTokenError

from core.masking import mask_phones
from core.unavailable import UNAVAILABLE_CODE, UNAVAILABLE_MESSAGE, is_database_unavailable

from .validation import validation_rules

logger = logging.getLogger("linli.graphql")

GENERIC_MESSAGE = "Internal error. Please try again later."
def mask_pii(text: str) -> str:
    """Mask phone numbers before anything reaches a log line (the console formatter masks
    the whole record too)."""
    return mask_phones(text)


def parse_document(query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
    try:
        return parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS), []
    except GraphQLError as exc:
        message = exc.message.lower()
        if "tokens. parsing aborted" in message:
            exc = GraphQLError(
                f"Document too large: at most {settings.GRAPHQL_MAX_TOKENS} tokens.",
                extensions={"code": "QUERY_TOO_COMPLEX"},
            )
        elif "nested too deeply" in message:  # the parser's own depth limit: a limit like ours
            exc = GraphQLError(exc.message, source=exc.source, positions=exc.positions, extensions={"code": "QUERY_TOO_COMPLEX"})
        return None, [exc]


_SUGGESTION = re.compile(r" Did you mean [^?]*\?$")


def validate_document(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    try:
        errors = validate(schema, document, validation_rules(), max_errors=20)
    except Exception as exc:  # noqa: BLE001 - a rule that crashes is our bug: refuse, log briefly
        return [_validation_crashed(exc)]
    if settings.GRAPHQL_INTROSPECTION:
        return errors
    # With introspection off, "Did you mean 'phone'?" would hand out the schema field by field.
    return [GraphQLError(_SUGGESTION.sub("", e.message), nodes=e.nodes, source=e.source, positions=e.positions,
                         path=e.path, original_error=e.original_error, extensions=e.extensions) for e in errors]


def _validation_crashed(exc: Exception) -> GraphQLError:
    """No document may crash validation (schema.core.validation); if one still does, the
    request is refused as an internal error with an id, and the log keeps the innermost
    frames only (a recursion would otherwise log a hundred kilobytes per request)."""
    error_id = uuid.uuid4().hex
    frames = "".join(traceback.format_exception(exc, limit=-8))
    logger.error("validation crashed %s: %s\n%s", error_id, type(exc).__name__, mask_pii(frames))
    return GraphQLError(GENERIC_MESSAGE, extensions={"code": "INTERNAL", "errorId": error_id})


def prepare_document(schema: GraphQLSchema, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
    """Parse and validate, remembering the outcome: apps send the same few documents again
    and again, and parsing plus validating costs more than many resolvers. Keyed by the
    text and the limits in force (tests change them), bounded in size."""
    return _prepared(schema, query, _limits())


def _limits() -> tuple:
    return tuple(getattr(settings, name) for name in (
        "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_ALIASES", "GRAPHQL_MAX_COST", "GRAPHQL_LIST_COST", "GRAPHQL_MAX_TOKENS",
        "GRAPHQL_MAX_MUTATIONS", "GRAPHQL_INTROSPECTION",
    )) + (settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"],)


@lru_cache(maxsize=512)
def _prepared(schema: GraphQLSchema, query: str, limits: tuple) -> tuple[DocumentNode | None, list[GraphQLError]]:
    document, errors = parse_document(query)
    if errors or document is None:
        return None, errors
    return document, validate_document(schema, document)


def original_error(error: Exception) -> BaseException | None:
    """The exception a GraphQL error wraps (through nested GraphQLErrors), or None."""
    original = error.original_error if isinstance(error, GraphQLError) else error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def format_error(error: Exception) -> dict:
    """Allow-list: our typed errors and GraphQL's own keep their message; the rest is masked."""
    if isinstance(error, HttpError):  # the request itself is malformed (no query, bad JSON)
        return {"message": str(error), "extensions": {"code": "BAD_REQUEST"}}
    if not isinstance(error, GraphQLError):
        error = GraphQLError(str(error), original_error=error)
    original = original_error(error)
    # GraphQLErrors are written for the client: validation, argument coercion ("Argument
    # 'until' has invalid value ..."), and ours (PermissionDenied, UserFacingError).
    if error.path is not None and _SERVER_FAULT.search(error.message):
        return _internal(error, error)  # the server could not shape its own answer: ours to fix
    if original is None or isinstance(original, GraphQLError):
        formatted = error.formatted
        if isinstance(original, GraphQLError) and original.extensions:
            formatted.setdefault("extensions", {}).update(original.extensions)
        if "extensions" not in formatted or "code" not in formatted.get("extensions", {}):
            formatted.setdefault("extensions", {})["code"] = "GRAPHQL_VALIDATION_FAILED" if original is None else "BAD_USER_INPUT"
        return dict(formatted)  # a plain dict, like the other branches (not graphql-core's TypedDict)
    if isinstance(original, JSONWebTokenError):
        return {
            "message": str(original),
            "locations": error.formatted.get("locations"),
            "path": error.path,
            "extensions": {"code": "UNAUTHENTICATED"},
        }
    if is_database_unavailable(original):
        logger.warning("database unavailable at %s: %s", error.path, type(original).__name__)
        return {
            "message": UNAVAILABLE_MESSAGE,
            "path": error.path,
            "extensions": {"code": UNAVAILABLE_CODE, "retryable": True},
        }
    if isinstance(original, DjangoValidationError):
        return {
            "message": "; ".join(str(m) for m in original.messages),
            "path": error.path,
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    return _internal(error, original)


# Messages graphql-core gives when a resolver's result does not fit the schema (output, not input).
_SERVER_FAULT = re.compile(r"cannot represent value|Cannot return null for non-nullable field|Expected Iterable"
                           r"|must resolve to an Object type")


def _internal(error: GraphQLError, original: BaseException) -> dict:
    error_id = uuid.uuid4().hex
    logger.error(
        "unexpected error %s at %s: %s",
        error_id,
        error.path,
        mask_pii(repr(original)),
        exc_info=(type(original), original, original.__traceback__),
    )
    return {
        "message": GENERIC_MESSAGE,
        "path": error.path,
        "extensions": {"code": "INTERNAL", "errorId": error_id},
    }
