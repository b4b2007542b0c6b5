"""Shared GraphQL building blocks: counted connections, ID decoding."""

from __future__ import annotations

from typing import Any

import graphene
from graphql_relay import from_global_id

from core.errors import ValidationError
from core.text import parse_id

from .errors import CommonErrorCode, UserFacingError


class Node(graphene.relay.Node):
    # Relay's Node interface, with IDs that fail as input errors, never as internal ones:
    # a malformed ID is BAD_USER_INPUT; an ID of another type, of an unknown type or of no
    # object reads as not found (null), whatever the reason, so nothing leaks.

    class Meta:
        name = "Node"
        description = "An object with an ID. A malformed ID is a BAD_USER_INPUT error; an ID of something you may not see reads as null."

    @classmethod
    def get_node_from_global_id(cls, info, global_id, only_type=None):
        try:
            type_name, pk = from_global_id(global_id)
        except Exception:  # noqa: BLE001 - not base64, not "Type:id"
            type_name, pk = "", ""
        row_id = parse_id(pk)
        if not type_name or row_id is None:
            raise UserFacingError("Not a valid ID.", "BAD_USER_INPUT")
        schema_type = info.schema.get_type(type_name)
        graphene_type = getattr(schema_type, "graphene_type", None)
        if graphene_type is None or (only_type and graphene_type is not only_type):
            return None
        if not any(issubclass(i, graphene.relay.Node) for i in getattr(graphene_type._meta, "interfaces", ())):
            return None
        get_node = getattr(graphene_type, "get_node", None)
        return get_node(info, row_id) if get_node is not None else None


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
        row_id = parse_id(pk)
        if type_name != expected_type or row_id is None:
            raise ValueError
        return row_id
    except (ValueError, TypeError, UnicodeDecodeError, Exception):  # noqa: BLE001
        raise ValidationError(
            {field: f"Not a valid {expected_type} ID."}, code=CommonErrorCode.INVALID
        )


def plain(value: Any) -> Any:
    """An argument as the services take it: enum members as their stored value, lists item by
    item (graphene hands resolvers enum members; services compare with strings)."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    return getattr(value, "value", value)
