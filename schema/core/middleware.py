"""Graphene middleware shared by the HTTP view and the WebSocket consumer.

PaginationArgumentsMiddleware checks `first`/`last`/`offset`/`before` on every connection
field before it resolves. graphene-django would otherwise answer bad pagination (negative
counts, pages over the maximum, offset with before) with an AssertionError or ValueError,
i.e. an internal error, instead of telling the client what to fix.
"""

from __future__ import annotations

from django.conf import settings
from graphql_relay.utils import unbase64

from core.text import parse_id

from .errors import UserFacingError
from .pagination import is_keyset_cursor

CODE = "BAD_USER_INPUT"
PAGINATION_ARGS = frozenset({"first", "last", "offset", "after", "before"})
CURSOR_PREFIX = "arrayconnection:"


def cursor_offset(cursor: object) -> int | None:
    """The offset a cursor of ours names, or None. graphql-relay's cursor_to_offset takes
    "arrayconnection:-5" (a negative slice: an internal error) and numbers too large for
    the database."""
    try:
        text = unbase64(cursor) if isinstance(cursor, str) else ""
    except Exception:  # noqa: BLE001 - not base64 or not UTF-8: not ours
        return None
    return parse_id(text[len(CURSOR_PREFIX):]) if text.startswith(CURSOR_PREFIX) else None


def check_pagination(field: str, args: dict) -> None:
    maximum = settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]
    for name in ("first", "last"):
        value = args.get(name)
        if value is not None and not 0 <= value <= maximum:
            raise UserFacingError(f"`{name}` on `{field}` must be between 0 and {maximum}.", CODE)
    for name in ("after", "before"):
        value = args.get(name)
        if value is not None and cursor_offset(value) is None and not is_keyset_cursor(value):
            raise UserFacingError(f"`{name}` on `{field}` is not a cursor from this list.", CODE)
    offset = args.get("offset")
    if offset is not None:
        if offset < 0:
            raise UserFacingError(f"`offset` on `{field}` must not be negative.", CODE)
        if args.get("before") is not None:
            raise UserFacingError(f"Use either `offset` or `before` on `{field}`, not both.", CODE)


class PaginationArgumentsMiddleware:
    def resolve(self, next, root, info, **args):
        if args and not PAGINATION_ARGS.isdisjoint(args):
            check_pagination(info.field_name, args)
        return next(root, info, **args)
