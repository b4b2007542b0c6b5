"""Stable cursors (keyset pagination) for every connection backed by a query.

Offset cursors (graphql-relay's "arrayconnection:N") repeat or skip rows when a row is
inserted or removed between two pages, which an infinite scroll of residents, notifications,
reports or the task board meets all the time. Here a cursor names the row itself: the values
of the list's ordering key, ending with the primary key, so the next page is "the rows after
this one in this order" whatever happened meanwhile.

- The list's own ordering is kept (each resolver's `order_by`, else the model's), with the
  primary key appended as the tie-breaker and NULLs last in both directions (the same on
  PostgreSQL and SQLite). Each ordering term is annotated (`linli_k0`, `linli_k1`, …) so that
  expressions (vulnerable first, distance, …) work the same way as plain fields.
- A cursor is base64 of `keyset:` + JSON {"o": the ordering's fingerprint, "k": the values}.
  A cursor of another list (or a made-up one) is BAD_USER_INPUT, never an internal error.
- first/after, last/before and offset (rows to skip after `after`) work as before;
  `totalCount` counts the whole list; the page-size limit (RELAY_CONNECTION_MAX_LIMIT) holds.
- Connections whose resolver returns a Python list (computed answers such as "nearest
  shelters") keep offset cursors: they are snapshots computed per request.

Applied to graphene-django's DjangoConnectionField and graphene's relay ConnectionField when
the schema module is imported (install()), so that every connection, present and future, gets it.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import uuid
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db.models import F, OrderBy, Q, QuerySet
from django.db.models.expressions import BaseExpression
from graphene.relay import ConnectionField, PageInfo
from graphene_django.fields import DjangoConnectionField
from graphene_django.utils import maybe_queryset

from .errors import UserFacingError

KEYSET_PREFIX = "keyset:"
_KEY = "linli_k"


def is_keyset_cursor(cursor: object) -> bool:
    return _decode(cursor) is not None


def _decode(cursor: object) -> dict | None:
    if not isinstance(cursor, str) or len(cursor) > 4096:
        return None
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        if not text.startswith(KEYSET_PREFIX):
            return None
        data = json.loads(text[len(KEYSET_PREFIX):])
    except Exception:  # noqa: BLE001 - not base64, not UTF-8, not JSON: not ours
        return None
    if not isinstance(data, dict) or not isinstance(data.get("o"), str) or not isinstance(data.get("k"), list):
        return None
    return data


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _encode(fingerprint: str, values: list) -> str:
    text = KEYSET_PREFIX + json.dumps({"o": fingerprint, "k": [_json_value(v) for v in values]},
                                      separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode()).decode()


class _Keys:
    """The ordering of a queryset as annotated keys (expression, descending), pk last."""

    def __init__(self, queryset: QuerySet):
        query = queryset.query
        order = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
        terms: list[tuple[Any, bool]] = []
        for item in order:
            if isinstance(item, str):
                if item == "?":
                    raise _NotKeyset
                descending = item.startswith("-")
                terms.append((F(item.lstrip("-+")), descending))
            elif isinstance(item, OrderBy):
                terms.append((item.expression, item.descending))
            elif isinstance(item, BaseExpression) or hasattr(item, "resolve_expression"):
                terms.append((item, False))
            else:
                raise _NotKeyset
        pk_names = {"pk", "id", queryset.model._meta.pk.name}
        if not any(isinstance(e, F) and getattr(e, "name", None) in pk_names for e, _ in terms):
            terms.append((F("pk"), False))
        self.terms = terms
        # Which list a cursor belongs to: the model and the shape of its order (field names;
        # expressions by kind only, as they may hold values that change per request, e.g. now).
        shape = [(getattr(e, "name", None) or type(e).__name__, d) for e, d in terms]
        self.fingerprint = hashlib.sha256(f"{queryset.model._meta.label}|{shape}".encode()).hexdigest()[:16]

    def apply(self, queryset: QuerySet) -> QuerySet:
        annotated = queryset.annotate(**{f"{_KEY}{i}": expr for i, (expr, _d) in enumerate(self.terms)})
        return annotated.order_by(*[
            F(f"{_KEY}{i}").desc(nulls_last=True) if descending else F(f"{_KEY}{i}").asc(nulls_last=True)
            for i, (_e, descending) in enumerate(self.terms)])

    def values(self, row) -> list:
        return [getattr(row, f"{_KEY}{i}") for i in range(len(self.terms))]

    def cursor(self, row) -> str:
        return _encode(self.fingerprint, self.values(row))

    def decode(self, cursor: str, argument: str) -> list:
        data = _decode(cursor)
        if data is None or data["o"] != self.fingerprint or len(data["k"]) != len(self.terms):
            raise UserFacingError(f"`{argument}` is not a cursor from this list.", "BAD_USER_INPUT")
        return data["k"]

    def beyond(self, values: list, forward: bool) -> Q:
        """Rows after (forward) or before the row whose keys are `values`, NULLs last."""
        result = Q(pk__in=[])
        equal = Q()
        for i, ((_expr, descending), value) in enumerate(zip(self.terms, values, strict=True)):
            name = f"{_KEY}{i}"
            later, earlier = ("lt", "gt") if descending else ("gt", "lt")
            if forward:
                step = None if value is None else Q(**{f"{name}__{later}": value}) | Q(**{f"{name}__isnull": True})
            else:
                step = Q(**{f"{name}__isnull": False}) if value is None else Q(**{f"{name}__{earlier}": value})
            if step is not None:
                result |= equal & step
            equal &= Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})
        return result


class _NotKeyset(Exception):
    """This queryset cannot be paged by keys (random order, DISTINCT ON, a union, a slice)."""


def _keyset_connection(connection, args: dict, queryset: QuerySet, max_limit: int | None):
    if queryset.query.combinator or queryset.query.distinct_fields or queryset.query.is_sliced:
        raise _NotKeyset
    keys = _Keys(queryset)
    first, last = args.get("first"), args.get("last")
    after, before, offset = args.get("after"), args.get("before"), args.get("offset") or 0
    if max_limit is not None and first is None and last is None:
        first = max_limit
    ordered = keys.apply(queryset)
    page = ordered
    try:
        if after:
            page = page.filter(keys.beyond(keys.decode(after, "after"), forward=True))
        if before:
            page = page.filter(keys.beyond(keys.decode(before, "before"), forward=False))
        if offset:  # skip `offset` rows: from the row just before them on, as after that row
            skipped = list(page[offset - 1:offset])
            page = page.filter(keys.beyond(keys.values(skipped[0]), forward=True)) if skipped else page.none()
        has_previous = has_next = False
        if first is not None:
            rows = list(page[:first + 1])
            has_next = len(rows) > first
            rows = rows[:first]
            if last is not None:
                has_previous = len(rows) > last
                rows = rows[-last:] if last else []
        elif last is not None:
            rows = list(page.reverse()[:last + 1])
            has_previous = len(rows) > last
            rows = rows[:last][::-1]
        else:
            rows = list(page)
    except (ValidationError, ValueError, TypeError, FieldError, decimal.InvalidOperation) as exc:
        # Values that do not fit the list's key (a cursor tampered with).
        raise UserFacingError("The cursor is not one of this list.", "BAD_USER_INPUT") from exc
    edges = [connection.Edge(node=row, cursor=keys.cursor(row)) for row in rows]
    result = connection(edges=edges, page_info=PageInfo(
        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
        has_previous_page=has_previous, has_next_page=has_next))
    result.iterable = queryset  # totalCount counts the whole list
    result.length = None
    return result


_django_resolve_connection = DjangoConnectionField.resolve_connection.__func__
_relay_resolve_connection = ConnectionField.resolve_connection.__func__


def _django_connection(cls, connection, args, iterable, max_limit=None):
    queryset = maybe_queryset(iterable)
    if isinstance(queryset, QuerySet):
        try:
            return _keyset_connection(connection, dict(args), queryset, max_limit)
        except _NotKeyset:
            pass
    return _django_resolve_connection(cls, connection, args, iterable, max_limit)


def _relay_connection(cls, connection_type, args, resolved):
    queryset = maybe_queryset(resolved)
    if isinstance(queryset, QuerySet) and isinstance(connection_type, type):
        try:
            return _keyset_connection(connection_type, dict(args), queryset, None)
        except _NotKeyset:
            pass
    return _relay_resolve_connection(cls, connection_type, args, resolved)


def install() -> None:
    """Page every query-backed connection by keys (idempotent)."""
    DjangoConnectionField.resolve_connection = classmethod(_django_connection)
    ConnectionField.resolve_connection = classmethod(_relay_connection)
