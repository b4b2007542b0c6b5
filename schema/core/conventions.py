"""Conventions every field of the API keeps, applied once to the built schema so that no type
can forget them (mobile_api_docs/README.md, "Calling the API"):

- Every DateTime is sent in UTC with an explicit `+00:00` offset, whatever zone the value was
  computed in (a mutation echoing a time given in +08:00, a row read back from the database,
  an event from a worker). A naive value is read as Asia/Shanghai (TIME_ZONE) first.
- Optional text that is absent is null, never "": a nullable String field answers null where
  its value is the empty string. Non-null String fields keep "" (they are never absent).
"""

from __future__ import annotations

import datetime as dt
import inspect

from django.utils import timezone
from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    default_field_resolver,
)

DATETIME_DESCRIPTION = (
    "An ISO 8601 date and time. Sent always in UTC with an explicit offset "
    "(`2026-11-26T02:00:00+00:00`); accepted with any offset."
)


def serialize_datetime(value):
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise GraphQLError(f"DateTime cannot represent value: {value!r}")


def _blank_is_null(resolve):
    resolve = resolve or default_field_resolver

    def resolver(root, info, **args):
        value = resolve(root, info, **args)
        return None if isinstance(value, str) and value == "" else value

    return resolver


def apply_conventions(graphql_schema: GraphQLSchema) -> None:
    datetime_type = graphql_schema.type_map.get("DateTime")
    if isinstance(datetime_type, GraphQLScalarType):
        datetime_type.serialize = serialize_datetime  # type: ignore[method-assign]
        datetime_type.description = DATETIME_DESCRIPTION
    for name, graphql_type in graphql_schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field in graphql_type.fields.values():
            if field.type is GraphQLString and not inspect.iscoroutinefunction(field.resolve):
                field.resolve = _blank_is_null(field.resolve)
