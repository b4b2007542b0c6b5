"""Validation rules that refuse abusive documents before any resolver runs.

- depth: graphene's depth_limit_validator (introspection keys are skipped);
- aliases: at most GRAPHQL_MAX_ALIASES aliased fields (alias brute force, R1.4);
- mutations: at most GRAPHQL_MAX_MUTATIONS top-level mutation fields per document;
- cost: each selected field costs 1 times the sizes of the lists it sits under (a
  connection's `first`/`last`, default the relay maximum; a plain list's LIST_SIZES entry or
  GRAPHQL_LIST_COST); over GRAPHQL_MAX_COST is refused (R1.3);
- introspection off by setting with graphql-core's NoSchemaIntrospectionCustomRule, which
  blocks __schema/__type but keeps __typename (Apollo sends it; graphene's
  DisableIntrospection would break it).
The parser itself is capped by GRAPHQL_MAX_TOKENS (schema.core.execution.parse_document).
"""

from __future__ import annotations

from django.conf import settings
from graphene.validation import depth_limit_validator
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule


class AliasLimitRule(ValidationRule):
    def __init__(self, context):
        super().__init__(context)
        self.count = 0
        self.reported = False

    def enter_field(self, node: FieldNode, *_args):
        if node.alias is not None:
            self.count += 1
            if self.count > settings.GRAPHQL_MAX_ALIASES and not self.reported:
                self.reported = True
                self.report_error(
                    GraphQLError(
                        f"Too many aliases: at most {settings.GRAPHQL_MAX_ALIASES} per document.",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX"},
                    )
                )


class MutationCountLimitRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        if node.operation != OperationType.MUTATION:
            return
        count = sum(1 for s in node.selection_set.selections if isinstance(s, FieldNode))
        if count > settings.GRAPHQL_MAX_MUTATIONS:
            self.report_error(
                GraphQLError(
                    f"Too many mutations: at most {settings.GRAPHQL_MAX_MUTATIONS} per document.",
                    node,
                    extensions={"code": "QUERY_TOO_COMPLEX"},
                )
            )


# Plain (non-connection) list fields whose size is known to be small; others cost
# GRAPHQL_LIST_COST items each. Paginated lists are connections and cost their page size.
LIST_SIZES: dict[str, int] = {
    "Area.ancestors": 5,
}


def _page_size(node: FieldNode) -> int:
    """Items a connection field may return: its literal first/last, else the relay maximum."""
    maximum = settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]
    for arg in node.arguments or ():
        if arg.name.value in ("first", "last") and isinstance(arg.value, IntValueNode):
            return max(1, min(int(arg.value.value), maximum))
    return maximum


def _is_connection(type_) -> bool:
    fields = getattr(type_, "fields", None) or {}
    return "edges" in fields and "pageInfo" in fields


class CostLimitRule(ValidationRule):
    """Counts the worst-case number of field resolutions a document may cause: each field
    costs 1 times the number of items of every list it sits under (a connection's page
    size, or a plain list's expected size)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments: dict[str, FragmentDefinitionNode] = {}

    def enter_document(self, node, *_args):
        self.fragments = {
            d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        limit = settings.GRAPHQL_MAX_COST
        root = self.context.schema.get_root_type(node.operation)
        cost = self._selection_cost(node.selection_set, root, 1, set(), limit)
        if cost > limit:
            self.report_error(
                GraphQLError(
                    f"Query is too expensive: cost {cost} exceeds the maximum {limit}. "
                    "Ask for smaller pages or fewer nested lists.",
                    node,
                    extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": limit},
                )
            )

    def _items(self, parent, name: str, node: FieldNode, field_type) -> int:
        named = get_named_type(field_type)
        if _is_connection(named):
            return _page_size(node)
        if _is_connection(parent) and name == "edges":
            return 1  # counted at the connection
        if isinstance(get_nullable_type(field_type), GraphQLList):
            return LIST_SIZES.get(f"{parent.name}.{name}", settings.GRAPHQL_LIST_COST)
        return 1

    def _selection_cost(self, selection_set, parent, multiplier: int, seen: set[str], limit: int) -> int:
        if selection_set is None or parent is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += multiplier
                name = sel.name.value
                field = getattr(parent, "fields", {}).get(name)
                if field is None:  # __typename, or unknown (other rules report it)
                    continue
                items = self._items(parent, name, sel, field.type)
                total += self._selection_cost(
                    sel.selection_set, get_named_type(field.type), multiplier * items, seen, limit
                )
            elif isinstance(sel, InlineFragmentNode):
                target = self._type_named(sel.type_condition.name.value) if sel.type_condition else parent
                total += self._selection_cost(sel.selection_set, target, multiplier, seen, limit)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None or name in seen:  # unknown or cyclic: other rules report it
                    continue
                target = self._type_named(frag.type_condition.name.value)
                total += self._selection_cost(frag.selection_set, target, multiplier, seen | {name}, limit)
            if total > limit * 10:  # stop early on absurd documents
                return total
        return total

    def _type_named(self, name: str):
        return self.context.schema.get_type(name)


def validation_rules() -> tuple:
    """GraphQL's own rules (unknown fields, arguments, types, fragments, variables...) and
    ours. graphql-core's validate() runs only the rules it is given, so the specified
    rules must be in the list: without them `{ nosuch }` would answer {"data": {}}."""
    rules = [
        *specified_rules,
        depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH),
        AliasLimitRule,
        MutationCountLimitRule,
        CostLimitRule,
    ]
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)
