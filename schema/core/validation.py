"""Validation rules that refuse abusive documents before any resolver runs.

Every limit is counted on the document as it would execute: named fragments and inline
fragments are expanded and fields are merged by response key, as graphql-core's executor
collects them, so wrapping fields in `... on Mutation { }` or a fragment changes nothing.

- depth: at most GRAPHQL_MAX_DEPTH nested selections (introspection fields are not counted);
- aliases: at most GRAPHQL_MAX_ALIASES aliased fields per operation (alias brute force, R1.4);
- mutations: at most GRAPHQL_MAX_MUTATIONS mutation fields per operation;
- secrets: at most one mutation that checks a password or a code (a login) per operation:
  each costs a slow password hash or a guess, so one document must not carry many;
- cost: each selected field costs 1 times the sizes of the lists it sits under (a
  connection's `first`/`last`, default the relay maximum; a plain list's LIST_SIZES entry or
  GRAPHQL_LIST_COST); over GRAPHQL_MAX_COST is refused (R1.3);
- introspection off by setting with graphql-core's NoSchemaIntrospectionCustomRule, which
  blocks __schema/__type but keeps __typename (Apollo sends it; graphene's
  DisableIntrospection would break it).
Every refusal carries extensions.code QUERY_TOO_COMPLEX. The parser itself is capped by
GRAPHQL_MAX_TOKENS (schema.core.execution.parse_document).

No rule here may crash on any document, valid or not: fragment cycles, unknown fragments,
unknown types and fields are skipped (graphql-core's own rules report them), and the walk is
bounded (a fragment spread twice in each of 30 nested fragments would otherwise expand to
2^30 selections).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    specified_rules,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule

TOO_COMPLEX = "QUERY_TOO_COMPLEX"

# Plain (non-connection) list fields whose size is known to be small; others cost
# GRAPHQL_LIST_COST items each. Paginated lists are connections and cost their page size.
LIST_SIZES: dict[str, int] = {
    "Area.ancestors": 5,
}


def checks_a_secret(mutation_field_type: GraphQLOutputType) -> bool:
    """Whether a mutation checks a password or a code: its class says so with
    `checks_secret = True` (graphene keeps the class on the payload type)."""
    named = get_named_type(mutation_field_type)
    return bool(getattr(getattr(named, "graphene_type", None), "checks_secret", False))


class WalkBudgetExceeded(Exception):
    """The document expands to more selections than any legitimate one."""


@dataclass
class Measure:
    """What one operation would execute, fragments expanded and fields merged."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    mutations: int = 0
    secrets: list[str] = field(default_factory=list)


class _Walk:
    """Collects fields like graphql-core's executor (fragments expanded, grouped by response
    key) and measures depth, aliases and cost, stopping early once a limit is certainly
    exceeded or the walk outgrows its budget."""

    def __init__(self, context: ValidationContext, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = context.schema
        self.fragments = fragments
        self.cost_limit: int = settings.GRAPHQL_MAX_COST
        # A legitimate document visits at most about as many selections as it costs.
        self.budget = 2 * self.cost_limit + settings.GRAPHQL_MAX_TOKENS
        self.visited = 0
        self.measure = Measure()

    def collect(self, selection_sets: Iterable[SelectionSetNode | None], parent: GraphQLNamedType | None,
                expanding: frozenset[str] = frozenset()) -> dict[str, list[FieldNode]]:
        """Fields of the merged selection sets by response key; a fragment being expanded is
        not entered again (a cycle: NoFragmentCyclesRule reports it)."""
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            for node, _target in self._fields(selection_set, parent, expanding):
                key = node.alias.value if node.alias else node.name.value
                grouped.setdefault(key, []).append(node)
        return grouped

    def _fields(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None,
                expanding: frozenset[str]) -> Iterator[tuple[FieldNode, GraphQLNamedType | None]]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            self.visited += 1
            if self.visited > self.budget:
                raise WalkBudgetExceeded
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                target = self._type_named(selection.type_condition.name.value) if selection.type_condition else parent
                yield from self._fields(selection.selection_set, target, expanding)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in expanding:  # unknown or cyclic: other rules report it
                    continue
                target = self._type_named(fragment.type_condition.name.value)
                yield from self._fields(fragment.selection_set, target, expanding | {name})

    def operation(self, node: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(node.operation)
        top = self.collect([node.selection_set], root)
        if node.operation == OperationType.MUTATION and root is not None:
            self.measure.mutations = len(top)
            self.measure.secrets = [key for key, nodes in top.items()
                                    if (f := root.fields.get(nodes[0].name.value)) is not None and checks_a_secret(f.type)]
        self._measure(top, root, multiplier=1, depth=0)
        return self.measure

    def _measure(self, grouped: dict[str, list[FieldNode]], parent: GraphQLNamedType | None,
                 multiplier: int, depth: int) -> None:
        for nodes in grouped.values():
            first = nodes[0]
            name = first.name.value
            if name.startswith("__"):  # introspection: bounded by the schema, not counted
                continue
            if first.alias is not None and first.alias.value != name:
                self.measure.aliases += 1
            self.measure.cost += multiplier
            self.measure.depth = max(self.measure.depth, depth)
            if self.measure.cost > 10 * self.cost_limit:
                return  # refused whatever else it holds; the figure is only told
            definition = (getattr(parent, "fields", None) or {}).get(name)
            if definition is None:  # unknown field (FieldsOnCorrectTypeRule reports it)
                continue
            child_type = get_named_type(definition.type)
            children = self.collect([n.selection_set for n in nodes], child_type)
            if children:
                items = self._items(parent, name, first, definition.type)
                self._measure(children, child_type, multiplier * items, depth + 1)

    def _items(self, parent: object, name: str, node: FieldNode, field_type: GraphQLOutputType) -> int:
        named = get_named_type(field_type)
        if _is_connection(named):
            return _page_size(node)
        if _is_connection(parent) and name == "edges":
            return 1  # counted at the connection
        nullable = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if isinstance(nullable, GraphQLList):
            return LIST_SIZES.get(f"{getattr(parent, 'name', '')}.{name}", settings.GRAPHQL_LIST_COST)
        return 1

    def _type_named(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)


def _page_size(node: FieldNode) -> int:
    """Items a connection field may return: its literal first/last, else the relay maximum."""
    maximum: int = settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]
    for arg in node.arguments or ():
        if arg.name.value in ("first", "last") and isinstance(arg.value, IntValueNode):
            try:
                return max(1, min(int(arg.value.value), maximum))
            except ValueError:  # an Int literal too long to convert: the largest page
                return maximum
    return maximum


def _is_connection(type_: object) -> bool:
    fields = getattr(type_, "fields", None) or {}
    return "edges" in fields and "pageInfo" in fields


class DocumentLimitsRule(ValidationRule):
    """Measures each operation once, fragments expanded, and refuses what exceeds a limit
    (per operation: a request executes one)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments: dict[str, FragmentDefinitionNode] = {}

    def enter_document(self, node: DocumentNode, *_args: object) -> None:
        self.fragments = {d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        walk = _Walk(self.context, self.fragments)
        try:
            measure = walk.operation(node)
        except WalkBudgetExceeded:
            self._refuse("Document too complex: its fragments expand to too many fields.", node)
            return
        name = node.name.value if node.name else "anonymous"
        if measure.depth > settings.GRAPHQL_MAX_DEPTH:
            self._refuse(f"'{name}' exceeds maximum operation depth of {settings.GRAPHQL_MAX_DEPTH}.", node,
                         depth=measure.depth, maxDepth=settings.GRAPHQL_MAX_DEPTH)
        if measure.aliases > settings.GRAPHQL_MAX_ALIASES:
            self._refuse(f"Too many aliases: at most {settings.GRAPHQL_MAX_ALIASES} per operation.", node)
        if measure.cost > settings.GRAPHQL_MAX_COST:
            self._refuse(f"Query is too expensive: cost {measure.cost} exceeds the maximum {settings.GRAPHQL_MAX_COST}. "
                         "Ask for smaller pages or fewer nested lists.", node,
                         cost=measure.cost, maxCost=settings.GRAPHQL_MAX_COST)
        if measure.mutations > settings.GRAPHQL_MAX_MUTATIONS:
            self._refuse(f"Too many mutations: at most {settings.GRAPHQL_MAX_MUTATIONS} per operation.", node)
        if len(measure.secrets) > 1:
            self._refuse("At most one login (a password or code check) per operation.", node)

    def _refuse(self, message: str, node: OperationDefinitionNode, **extensions: int) -> None:
        self.report_error(GraphQLError(message, node, extensions={"code": TOO_COMPLEX, **extensions}))


def validation_rules() -> tuple[type[ASTValidationRule], ...]:
    """GraphQL's own rules (unknown fields, arguments, types, fragments and their cycles,
    variables...) and ours. graphql-core's validate() runs only the rules it is given, so the
    specified rules must be in the list: without them `{ nosuch }` would answer {"data": {}}."""
    rules: list[type[ASTValidationRule]] = [*specified_rules, DocumentLimitsRule]
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)
