"""Shared GraphQL building blocks: counted connections, ID decoding."""

from __future__ import annotations

import graphene
from graphql_relay import from_global_id

from backend.errors import ValidationError

from .errors import CommonErrorCode


class CountedConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True)

    def resolve_total_count(root, info):
        iterable = root.iterable
        return iterable.count() if hasattr(iterable, "count") and not isinstance(iterable, list) else len(iterable)


def decode_id(global_id: str, expected_type: str, field: str = "id") -> int:
    """Relay global ID -> primary key, or a typed ValidationError naming the field."""
    try:
        type_name, pk = from_global_id(global_id)
        if type_name != expected_type:
            raise ValueError
        return int(pk)
    except (ValueError, TypeError, UnicodeDecodeError, Exception):  # noqa: BLE001
        raise ValidationError(
            {field: f"Not a valid {expected_type} ID."}, code=CommonErrorCode.INVALID
        )
