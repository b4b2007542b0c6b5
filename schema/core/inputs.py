"""Every string that comes into the API passes here, over HTTP and WebSocket alike.

- refused_input: a NUL character or a lone surrogate anywhere in the request's strings (the
  document's literals, the variables, the operation name) refuses the request before it
  runs (BAD_USER_INPUT): no column stores them, and an encoder meeting one fails deep inside
  a resolver (a password hash, a database driver).
- TextArgumentsMiddleware: the arguments of every mutation lose invisible characters
  (core.text.strip_unprintable: control characters, bidirectional controls) before a service
  sees them, so every free-text input of today and tomorrow is cleaned in one place. Secrets
  (passwords, codes, tokens) are compared as typed and pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLResolveInfo,
    OperationType,
    StringValueNode,
    Visitor,
    visit,
)

from core.text import strip_unprintable, unstorable_in

CODE = "BAD_USER_INPUT"
SECRET_ARGUMENTS = frozenset({"password", "code", "otp", "recovery_code", "refresh_token", "token", "device_token"})


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.problem: tuple[str, StringValueNode] | None = None

    def enter_string_value(self, node: StringValueNode, *_args: object) -> Any:
        problem = unstorable_in(node.value)
        if problem is not None:
            self.problem = (problem, node)
            return self.BREAK
        return None


# The documents' literal check, remembered per parsed document (parsing is cached per
# document text, so the same text is the same DocumentNode): walking the document was ~8 % of
# a safety-check answer's CPU. Keyed by id() with the document held, so an id is never reused
# while its entry lives; bounded (oldest out first).
_LITERALS_CHECKED: dict[int, tuple[DocumentNode, tuple[str, StringValueNode] | None]] = {}
_LITERALS_CHECKED_MAX = 512


def _literal_problem(document: DocumentNode) -> tuple[str, StringValueNode] | None:
    known = _LITERALS_CHECKED.get(id(document))
    if known is not None and known[0] is document:
        return known[1]
    literals = _StringLiterals()
    visit(document, literals)
    if len(_LITERALS_CHECKED) >= _LITERALS_CHECKED_MAX:
        _LITERALS_CHECKED.pop(next(iter(_LITERALS_CHECKED)), None)
    _LITERALS_CHECKED[id(document)] = (document, literals.problem)
    return literals.problem


def refused_input(document: DocumentNode, variables: object, operation_name: object) -> GraphQLError | None:
    """A BAD_USER_INPUT error when a string of the request holds what no column can store."""
    found_literal = _literal_problem(document)
    if found_literal is not None:
        problem, node = found_literal
        return GraphQLError(f"A string argument contains {problem}.", node, extensions={"code": CODE})
    for where, value in (("variables", variables), ("operationName", operation_name)):
        found = unstorable_in(value)
        if found is not None:
            return GraphQLError(f"`{where}` contains {found}.", extensions={"code": CODE})
    return None


def clean_argument(value: Any) -> Any:
    """`value` with invisible characters taken out of every string in it (input objects and
    lists included, their types kept: graphene's input objects are dicts with attributes)."""
    if isinstance(value, str):
        return strip_unprintable(value)
    if isinstance(value, dict):
        return type(value)({key: value[key] if key in SECRET_ARGUMENTS else clean_argument(value[key]) for key in value})
    if isinstance(value, list):
        return [clean_argument(item) for item in value]
    return value


class TextArgumentsMiddleware:
    def resolve(self, next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        if args and info.operation.operation == OperationType.MUTATION and info.path.prev is None:
            args = {name: value if name in SECRET_ARGUMENTS else clean_argument(value) for name, value in args.items()}
        return next(root, info, **args)
