"""Limits are counted on the document as it would run: fragments and inline fragments
expanded, fields merged by response key. No document, however odd, crashes validation."""

import json
import logging
import time

import pytest
from graphql import get_named_type

from schema.schema import schema
from tests.graphql import token_for
from tests.wsclient import GraphQLWSClient

pytestmark = pytest.mark.django_db

CYCLE = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
LOGIN = 'tokenAuth(username: "commander1", password: "guess") { token }'


def codes(body: dict) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in body.get("errors", [])}


def post(client, query: str):
    return client.post("/graphql/", data=json.dumps({"query": query}), content_type="application/json")


@pytest.mark.parametrize("debug", [False, True])
def test_a_fragment_cycle_is_refused_by_validation_with_a_short_answer_and_log(client, settings, caplog, debug):
    settings.DEBUG = debug
    caplog.set_level(logging.INFO)
    response = post(client, CYCLE)
    assert response.status_code == 400
    assert len(response.content) < 2000  # not a debug page
    body = response.json()
    assert codes(body) == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("Cannot spread fragment 'A' within itself" in e["message"] for e in body["errors"])
    assert sum(len(r.getMessage()) for r in caplog.records) < 2000


@pytest.mark.parametrize("query", [
    "query { ...A } fragment A on Query { ...A }",
    "query { me { ...U } } fragment U on User { roles { area { ...U } } }",
    "query { ...Nope }",
    "query { me { ... on Nope { id } } }",
    "query { ...A } fragment A on Nope { id }",
    "mutation { ...M } fragment M on Mutation { ...M tokenAuth(username: \"a\", password: \"b\") { token } }",
    "subscription { ...S } fragment S on Subscription { ...S }",
    "query { me { id } } query { me { id } }",
    "query Q { a: me { id } a: areas { totalCount } }",
    "query { areas(first: 99999999999999999999999) { totalCount } }",
])
def test_odd_documents_are_refused_without_crashing(client, query):
    response = post(client, query)
    assert response.status_code == 400, response.content
    assert codes(response.json()) <= {"GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COMPLEX"}


def test_a_document_the_parser_finds_too_deep_is_too_complex_too(client):
    response = post(client, "{" + "... on Query {" * 400 + " me { id } " + "}" * 400 + "}")
    assert response.status_code == 400 and codes(response.json()) == {"QUERY_TOO_COMPLEX"}


def test_fragments_that_multiply_are_refused_quickly(client):
    # Each fragment spreads the next twice: 2^30 selections if expanded naively.
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    query = f"query {{ ...F0 }} {fragments} fragment F30 on Query {{ me {{ id }} }}"
    started = time.monotonic()
    response = post(client, query)
    assert time.monotonic() - started < 5
    assert response.status_code == 400 and codes(response.json()) == {"QUERY_TOO_COMPLEX"}


@pytest.mark.django_db(transaction=True)
def test_a_fragment_cycle_over_the_websocket_is_an_error_and_the_socket_stays_open(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        ws.subscribe("1", CYCLE)
        message = ws.receive_for("1")
        assert message["type"] == "error"
        assert {e["extensions"]["code"] for e in message["payload"]} == {"GRAPHQL_VALIDATION_FAILED"}
        ws.subscribe("2", "{ me { username } }")
        assert ws.receive_for("2")["payload"]["data"]["me"]["username"] == "worker_a1"


def twelve(wrap: str) -> str:
    fields = " ".join(f'm{i}: requestLoginCode(phone: "+86139000000{i:02d}") {{ errors {{ code }} }}' for i in range(12))
    if wrap == "inline":
        return f"mutation {{ ... on Mutation {{ {fields} }} }}"
    if wrap == "fragment":
        return f"mutation {{ ...M }} fragment M on Mutation {{ {fields} }}"
    return f"mutation {{ ... {{ ...M }} }} fragment M on Mutation {{ ... on Mutation {{ {fields} }} }}"


@pytest.mark.parametrize("wrap", ["inline", "fragment", "nested"])
def test_mutations_wrapped_in_fragments_count(gql, settings, wrap):
    from notifications.models import LoginCode

    settings.GRAPHQL_MAX_MUTATIONS = 5
    status, body = gql(twelve(wrap))
    assert status == 400 and codes(body) == {"QUERY_TOO_COMPLEX"}
    assert "Too many mutations" in body["errors"][0]["message"]
    assert not LoginCode.objects.exists()


def test_a_fragment_spread_twice_runs_once_and_counts_once(gql, settings):
    settings.GRAPHQL_MAX_MUTATIONS = 2
    fields = 'a: requestLoginCode(phone: "+8613900000001") { errors { code } } b: requestLoginCode(phone: "+8613900000002") { errors { code } }'
    status, body = gql(f"mutation {{ ...M ...M ... on Mutation {{ ...M }} }} fragment M on Mutation {{ {fields} }}")
    assert status == 200 and set(body["data"]) == {"a", "b"}


def test_aliases_inside_fragments_count(gql, settings):
    settings.GRAPHQL_MAX_ALIASES = 15
    aliases = " ".join(f"a{i}: me {{ id }}" for i in range(16))
    for query in (f"{{ ...F }} fragment F on Query {{ {aliases} }}", f"{{ ... on Query {{ {aliases} }} }}",
                  f"{{ me {{ ...U }} }} fragment U on User {{ {aliases.replace('me { id }', 'roles { role }')} }}"):
        status, body = gql(query)
        assert status == 400 and codes(body) == {"QUERY_TOO_COMPLEX"}, query


def test_depth_counts_through_fragments_and_is_refused_as_too_complex(gql, settings):
    settings.GRAPHQL_MAX_DEPTH = 4
    query = "{ me { ...R } } fragment R on User { roles { area { ...P } } } fragment P on Area { parent { parent { parent { id } } } }"
    status, body = gql(query)
    assert status == 400 and codes(body) == {"QUERY_TOO_COMPLEX"}
    assert "exceeds maximum operation depth of 4" in body["errors"][0]["message"]


def test_cost_counts_through_fragments(gql, settings):
    settings.GRAPHQL_MAX_COST = 2000
    query = "{ ...F } fragment F on Query { areas(first: 100) { edges { node { ... on Area { ancestors { ...A } } } } } } fragment A on Area { id name code kind mode }"
    status, body = gql(query)
    assert status == 400 and body["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 2801, "maxCost": 2000}


@pytest.mark.parametrize("logins", [
    f"a: {LOGIN} b: {LOGIN}",
    f'{LOGIN} verifyLoginCode(phone: "+8613900000001", code: "123456") {{ token }}',
    f"a: {LOGIN} ... on Mutation {{ b: {LOGIN} }}",
    " ".join(f"l{i}: {LOGIN}" for i in range(15)),
])
def test_at_most_one_login_per_document(gql, settings, world, logins):
    settings.GRAPHQL_MAX_MUTATIONS = 20
    settings.GRAPHQL_MAX_ALIASES = 20
    status, body = gql(f"mutation {{ {logins} }}")
    assert status == 400 and codes(body) == {"QUERY_TOO_COMPLEX"}
    assert any("At most one login" in e["message"] for e in body["errors"])


def test_one_login_in_a_document_runs(gql, world):
    world.commander.set_password("right-password-1")
    world.commander.save()
    status, body = gql(f'mutation {{ ...L }} fragment L on Mutation {{ tokenAuth(username: "{world.commander.username}", password: "right-password-1") {{ token }} }}')
    assert status == 200 and body["data"]["tokenAuth"]["token"]


def test_every_mutation_that_issues_tokens_from_a_secret_is_counted_as_a_login():
    """A future login (a mutation whose payload carries a token) must declare itself, or it
    would escape the one-login-per-document limit."""
    from schema.core.validation import checks_a_secret

    not_logins = {"refreshToken"}  # exchanges a token for a token: no password or code to guess
    issuing = {name for name, f in schema.graphql_schema.mutation_type.fields.items()
               if "token" in getattr(get_named_type(f.type), "fields", {}) and name not in not_logins}
    assert issuing >= {"tokenAuth", "verifyLoginCode"}
    assert {name for name in issuing if not checks_a_secret(schema.graphql_schema.mutation_type.fields[name].type)} == set()


def test_a_rule_that_crashes_is_an_internal_error_with_an_id_and_a_short_log(gql, monkeypatch, caplog):
    from schema.core import validation

    def explode(self, node, *args):
        raise KeyError("a bug in a rule")

    monkeypatch.setattr(validation.DocumentLimitsRule, "enter_operation_definition", explode)
    status, body = gql("{ me { id } } # not validated before (validation outcomes are remembered)")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL" and error["extensions"]["errorId"]
    logged = [r.getMessage() for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert logged and len(logged[0]) < 5000
