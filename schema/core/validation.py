"""Validation rules that refuse abusive documents before any resolver runs.

- depth: graphene's depth_limit_validator (introspection keys are skipped);
- aliases: at most GRAPHQL_MAX_ALIASES aliased fields (alias brute force, R1.4);
- mutations: at most GRAPHQL_MAX_MUTATIONS top-level mutation fields per document;
- cost: each selected field costs 1 times the page sizes (`first`/`last`, default the
  relay maximum) of the lists it sits under; over GRAPHQL_MAX_COST is refused (R1.3);
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
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    ValidationRule,
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


def _page_size(node: FieldNode) -> int:
    for arg in node.arguments or ():
        if arg.name.value in ("first", "last"):
            if isinstance(arg.value, IntValueNode):
                return max(1, min(int(arg.value.value), settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]))
            return settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]
    return 1


def _is_list_container(node: FieldNode) -> bool:
    return any(arg.name.value in ("first", "last") for arg in node.arguments or ())


class CostLimitRule(ValidationRule):
    """Counts the worst-case number of field resolutions a document may cause."""

    def __init__(self, context):
        super().__init__(context)
        self.fragments: dict[str, FragmentDefinitionNode] = {}

    def enter_document(self, node, *_args):
        self.fragments = {
            d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        limit = settings.GRAPHQL_MAX_COST
        cost = self._selection_cost(node.selection_set, 1, set(), limit)
        if cost > limit:
            self.report_error(
                GraphQLError(
                    f"Query is too expensive: cost {cost} exceeds the maximum {limit}. "
                    "Ask for smaller pages or fewer nested lists.",
                    node,
                    extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": limit},
                )
            )

    def _selection_cost(self, selection_set, multiplier: int, seen: set[str], limit: int) -> int:
        if selection_set is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += multiplier
                child_multiplier = multiplier * (_page_size(sel) if _is_list_container(sel) else 1)
                total += self._selection_cost(sel.selection_set, child_multiplier, seen, limit)
            elif isinstance(sel, InlineFragmentNode):
                total += self._selection_cost(sel.selection_set, multiplier, seen, limit)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None or name in seen:  # unknown or cyclic: other rules report it
                    continue
                total += self._selection_cost(frag.selection_set, multiplier, seen | {name}, limit)
            if total > limit * 10:  # stop early on absurd documents
                return total
        return total


def validation_rules() -> tuple:
    rules = [
        depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH),
        AliasLimitRule,
        MutationCountLimitRule,
        CostLimitRule,
    ]
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)
