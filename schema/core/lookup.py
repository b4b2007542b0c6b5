"""A Relay global ID -> the row it names, or a typed NOT_FOUND error naming the input field."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from core.errors import CoreErrorCode, field_error

from .types import decode_id

M = TypeVar("M", bound=Model)


def get_node_or_error(source: type[M] | QuerySet[M], global_id: str, field: str, *, type_name: str | None = None) -> M:
    """The row of `source` (a model, or a queryset that also scopes and loads related rows)
    that `global_id` names; its Relay type name is the model's unless `type_name` says."""
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    name = type_name or queryset.model.__name__
    row = queryset.filter(pk=decode_id(global_id, name, field)).first()
    if row is None:
        raise field_error(field, f"No such {name}.", CoreErrorCode.NOT_FOUND)
    return row


def get_node_or_none(source: type[M] | QuerySet[M], global_id: str | None, field: str, *,
                     type_name: str | None = None) -> M | None:
    """get_node_or_error for an optional ID argument: None when it was not given."""
    return None if global_id is None else get_node_or_error(source, global_id, field, type_name=type_name)
