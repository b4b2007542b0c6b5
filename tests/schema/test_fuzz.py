"""Property-based fuzzing of the whole GraphQL API: whatever document arrives — valid for
the schema or not, with any argument values (lone surrogates, NUL characters and
bidirectional controls among them, in literals and in variables), as written or wrapped in
fragments and inline fragments — no input yields a 500, a stack trace or an unexpected-error
mask (each of those is a bug to fix, not an answer)."""

from __future__ import annotations

import json

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    parse_type,
    print_ast,
    visit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from schema.schema import schema
from tests.graphql import token_for

pytestmark = pytest.mark.django_db

GRAPHQL_SCHEMA = schema.graphql_schema
ACCEPTABLE_STATUS = {200, 400, 401, 403, 413, 429}

_datetimes = st.sampled_from(["2026-11-26T10:00:00+08:00", "2026-02-30T25:61:00", "", "yesterday", "9999-12-31T23:59:59Z"])
CUSTOM_SCALARS = {
    "DateTime": _datetimes.map(nodes.String),
    "Date": st.sampled_from(["2026-11-26", "2026-13-01", "", "0000-00-00"]).map(nodes.String),
    "Time": st.sampled_from(["08:30:00", "25:00", ""]).map(nodes.String),
    "Decimal": st.sampled_from(["1.5", "-3", "NaN", "1e309", "abc", "0.001"]).map(nodes.String),
    "GenericScalar": st.one_of(st.integers(-5, 5).map(nodes.Int), st.text(max_size=5).map(nodes.String)),
    "Upload": st.just(nodes.Null),
}


def _operations(mode: Mode):
    return from_schema(GRAPHQL_SCHEMA, custom_scalars=CUSTOM_SCALARS, mode=mode)


def _check(response) -> None:
    assert response.status_code in ACCEPTABLE_STATUS, response.content[:500]
    text = response.content.decode()
    assert "Traceback" not in text and 'File "' not in text
    body = json.loads(text)
    internal = [e for e in body.get("errors", []) if e.get("extensions", {}).get("code") == "INTERNAL"]
    assert not internal, internal


@pytest.fixture
def callers(world):
    return {"anonymous": None, "commander": token_for(world.commander), "grid worker": token_for(world.worker_a1),
            "resident": token_for(world.resident)}


def _post(client, document: str, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/graphql/", data=json.dumps({"query": document}), content_type="application/json", **headers)


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])


@FUZZ
@given(document=_operations(Mode.POSITIVE), who=st.sampled_from(["anonymous", "commander", "grid worker", "resident"]))
def test_valid_documents_never_crash_the_server(client, callers, document, who):
    _check(_post(client, document, callers[who]))


@FUZZ
@given(document=_operations(Mode.NEGATIVE), who=st.sampled_from(["commander", "resident"]))
def test_invalid_documents_are_refused_cleanly(client, callers, document, who):
    _check(_post(client, document, callers[who]))


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                      st.dictionaries(st.sampled_from(["query", "variables", "operationName", "extensions"]),
                                      st.one_of(st.none(), st.integers(), st.text(max_size=30), st.lists(st.integers(), max_size=3)),
                                      max_size=4).map(lambda d: json.dumps(d).encode())))
def test_garbage_request_bodies_are_refused_cleanly(client, body):
    response = client.post("/graphql/", data=body, content_type="application/json")
    _check(response)


# --- odd strings and fragment-wrapped operations ------------------------------------------------
# Lone surrogates (no UTF-8 for them), NUL (PostgreSQL refuses it) and bidirectional controls.
ODD = ["\ud800", "\udfff", "a\udc00b", "\x00", "x\x00y", "\u202e", "\u2066\u2069", "\u200f", "\u061c", "\u202egpj.exe"]
SMALL = settings(FUZZ, max_examples=60)


class _StringsToVariables(Visitor):
    """Every string literal in an argument becomes a variable of the type expected there."""

    def __init__(self, type_info: TypeInfo, odd: str):
        super().__init__()
        self.type_info, self.odd = type_info, odd
        self.variables: dict[str, tuple[str, str]] = {}

    def enter_string_value(self, node: StringValueNode, *_args):
        expected = self.type_info.get_input_type()
        if expected is None:
            return None
        name = f"v{len(self.variables)}"
        self.variables[name] = (str(expected), node.value + self.odd)
        return VariableNode(name=NameNode(value=name))


def with_odd_variables(document: str, odd: str) -> tuple[str, dict]:
    type_info = TypeInfo(GRAPHQL_SCHEMA)
    visitor = _StringsToVariables(type_info, odd)
    changed = visit(parse(document), TypeInfoVisitor(type_info, visitor))
    definitions = tuple(VariableDefinitionNode(variable=VariableNode(name=NameNode(value=name)), type=parse_type(kind),
                                               directives=())
                        for name, (kind, _value) in visitor.variables.items())
    operations = [OperationDefinitionNode(operation=d.operation, name=d.name, directives=d.directives,
                                          variable_definitions=definitions, selection_set=d.selection_set)
                  if isinstance(d, OperationDefinitionNode) else d for d in changed.definitions]
    return print_ast(DocumentNode(definitions=tuple(operations))), {n: v for n, (_k, v) in visitor.variables.items()}


class _OddLiterals(Visitor):
    def __init__(self, odd: str):
        super().__init__()
        self.odd = odd

    def enter_string_value(self, node: StringValueNode, *_args):
        return StringValueNode(value=node.value + self.odd, block=False)


def with_odd_literals(document: str, odd: str) -> str:
    return print_ast(visit(parse(document), _OddLiterals(odd)))


def wrapped_in_fragments(document: str, how: str) -> str:
    """The same operation with its fields inside `... on Root { }`, a named fragment, or both."""
    ast = parse(document)
    operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    root = NamedTypeNode(name=NameNode(value=GRAPHQL_SCHEMA.get_root_type(operation.operation).name))
    inner = operation.selection_set
    if how in ("inline", "both"):
        inner = SelectionSetNode(selections=(InlineFragmentNode(type_condition=root, directives=(), selection_set=inner),))
    extra: tuple = ()
    if how in ("named", "both"):
        extra = (FragmentDefinitionNode(name=NameNode(value="Wrapped"), type_condition=root, directives=(),
                                        variable_definitions=None, selection_set=inner),)
        inner = SelectionSetNode(selections=(FragmentSpreadNode(name=NameNode(value="Wrapped"), directives=()),))
    wrapped = OperationDefinitionNode(operation=operation.operation, name=operation.name, directives=operation.directives,
                                      variable_definitions=operation.variable_definitions, selection_set=inner)
    return print_ast(DocumentNode(definitions=(wrapped, *extra)))


def _post_json(client, body: dict, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    # ensure_ascii (the default) writes a lone surrogate as "\\ud800", as a client's encoder would.
    return client.post("/graphql/", data=json.dumps(body), content_type="application/json", **headers)


@SMALL
@given(document=_operations(Mode.POSITIVE), odd=st.sampled_from(ODD), who=st.sampled_from(["commander", "resident"]))
def test_odd_strings_in_variables_are_refused_or_cleaned_never_crash(client, callers, document, odd, who):
    text, variables = with_odd_variables(document, odd)
    response = _post_json(client, {"query": text, "variables": variables}, callers[who])
    _check(response)
    if any(c in odd for c in ("\x00", "\ud800", "\udfff", "\udc00")) and variables:
        assert response.status_code == 400
        codes = {e["extensions"]["code"] for e in response.json()["errors"]}
        if codes == {"QUERY_TOO_COMPLEX"}:  # refused for its shape before its values were read
            clean, clean_variables = with_odd_variables(document, "")
            plain = _post_json(client, {"query": clean, "variables": clean_variables}, callers[who])
            assert {e["extensions"]["code"] for e in plain.json().get("errors", [])} == {"QUERY_TOO_COMPLEX"}
        else:
            assert codes == {"BAD_USER_INPUT"}


@SMALL
@given(document=_operations(Mode.POSITIVE), odd=st.sampled_from(ODD), who=st.sampled_from(["commander", "resident"]))
def test_odd_strings_in_literals_never_crash(client, callers, document, odd, who):
    _check(_post_json(client, {"query": with_odd_literals(document, odd)}, callers[who]))


@SMALL
@given(document=_operations(Mode.POSITIVE), how=st.sampled_from(["inline", "named", "both"]),
       who=st.sampled_from(["anonymous", "commander", "resident"]))
def test_fragment_wrapped_operations_never_crash(client, callers, document, how, who):
    _check(_post(client, wrapped_in_fragments(document, how), callers[who]))


@SMALL
@given(document=_operations(Mode.NEGATIVE), how=st.sampled_from(["inline", "named", "both"]))
def test_fragment_wrapped_invalid_documents_are_refused_cleanly(client, callers, document, how):
    try:
        text = wrapped_in_fragments(document, how)
    except Exception:  # not even parseable: the plain fuzz test covers it
        text = document
    _check(_post(client, text, callers["commander"]))


def test_wrapping_helpers_do_what_they_say():
    text, variables = with_odd_variables('{ node(id: "x") { id } }', "\u202e")
    assert text.startswith("query ($v0: ID!)") and variables == {"v0": "x\u202e"}
    assert "... on Query" in wrapped_in_fragments("{ me { id } }", "inline")
    assert "fragment Wrapped on Mutation" in wrapped_in_fragments('mutation { revokeToken(refreshToken: "x") { revoked } }', "named")
