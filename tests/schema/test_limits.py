"""Abusive documents are refused at parse or validation time, before any resolver runs."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def nested_areas(depth: int) -> str:
    inner = "id"
    for _ in range(depth):
        inner = f"parent {{ {inner} }}"
    return f"{{ me {{ roles {{ area {{ {inner} }} }} }} }}"


def codes(body: dict) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in body.get("errors", [])}


def test_query_deeper_than_the_limit_is_refused_without_touching_the_database(gql, settings, world):
    settings.GRAPHQL_MAX_DEPTH = 6
    with CaptureQueriesContext(connection) as ctx:
        status, body = gql(nested_areas(8), user=None)
    assert status == 400
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert codes(body) == {"QUERY_TOO_COMPLEX"}  # as documented (issue 17.5)
    assert [q for q in ctx.captured_queries if "community_area" in q["sql"]] == []


def test_query_within_the_depth_limit_runs(gql, settings, world):
    settings.GRAPHQL_MAX_DEPTH = 10
    status, body = gql(nested_areas(3), user=world.worker_a1)
    assert status == 200 and "errors" not in body


def test_too_many_aliases_are_refused(gql, settings):
    settings.GRAPHQL_MAX_ALIASES = 15
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(16)) + " }"
    status, body = gql(query)
    assert status == 400
    assert codes(body) == {"QUERY_TOO_COMPLEX"}


def test_too_many_mutations_in_one_document_are_refused(gql, settings):
    settings.GRAPHQL_MAX_MUTATIONS = 2
    fields = " ".join(f'l{i}: tokenAuth(username: "x", password: "y") {{ token }}' for i in range(3))
    status, body = gql(f"mutation {{ {fields} }}")
    assert status == 400
    assert "Too many mutations" in body["errors"][0]["message"]


def test_expensive_nested_pages_are_refused_by_cost(gql, settings):
    settings.GRAPHQL_MAX_COST = 2000
    # 100 areas x (edges, node, ancestors + 5 ancestors x 5 fields) = 2,800 resolutions.
    query = "{ areas(first: 100) { edges { node { ancestors { id name code kind mode } } } } }"
    with CaptureQueriesContext(connection) as ctx:
        status, body = gql(query)
    assert status == 400
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] == 2801
    assert ctx.captured_queries == []


def test_a_connection_without_first_costs_a_full_page(gql, settings):
    settings.GRAPHQL_MAX_COST = 50
    status, body = gql("{ areas { edges { node { id } } } }")
    assert status == 400 and body["errors"][0]["extensions"]["cost"] == 301


def test_document_over_the_token_limit_is_refused(gql, settings):
    settings.GRAPHQL_MAX_TOKENS = 500
    status, body = gql("{ " + "me { id } " * 400 + "}")
    assert status == 400
    assert codes(body) == {"QUERY_TOO_COMPLEX"}
    assert "at most 500 tokens" in body["errors"][0]["message"]


def test_batched_request_bodies_are_refused(client):
    body = json.dumps([{"query": "{ me { id } }"}, {"query": "{ me { id } }"}])
    response = client.post("/graphql/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert codes(response.json()) == {"BAD_REQUEST"}


def test_mutation_over_get_is_refused(client):
    response = client.get("/graphql/", {"query": 'mutation { tokenAuth(username: "a", password: "b") { token } }'}, HTTP_ACCEPT="application/json")
    assert response.status_code == 405


def test_introspection_off_by_setting_but_typename_still_works(gql, settings, world):
    settings.GRAPHQL_INTROSPECTION = False
    status, body = gql("{ __schema { types { name } } }")
    assert status == 400
    status, body = gql("{ me { __typename username } }", user=world.worker_a1)
    assert status == 200
    assert body["data"]["me"] == {"__typename": "User", "username": "worker_a1"}


def test_introspection_on_in_development(gql, settings):
    settings.GRAPHQL_INTROSPECTION = True
    status, body = gql("{ __schema { queryType { name } } }")
    assert status == 200 and body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_graphiql_is_not_served_when_disabled(client, settings):
    settings.GRAPHIQL = False
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert b"<html" not in response.content.lower()


def test_unexpected_errors_are_masked_and_logged_with_an_id(gql, world, monkeypatch, caplog):
    from schema.schema import schema

    def explode(root, info):
        raise ValueError("duplicate key phone=+8613800000001 in table community_user")

    monkeypatch.setattr(schema.graphql_schema.type_map["User"].fields["phone"], "resolve", explode)
    status, body = gql("{ me { phone } }", user=world.worker_a1)
    error = body["errors"][0]
    assert error["message"] == "Internal error. Please try again later."
    assert error["extensions"]["code"] == "INTERNAL"
    assert "community_user" not in json.dumps(body) and "13800000001" not in json.dumps(body)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert error["extensions"]["errorId"] in logged
    assert "+8613800000001" not in logged


@pytest.mark.parametrize(
    "args, message",
    [("first: -1", "between 0 and 100"), ("first: 101", "between 0 and 100"), ("last: 1000", "between 0 and 100"),
     ("offset: -2", "must not be negative"), ('offset: 1, before: "YXJyYXljb25uZWN0aW9uOjE="', "not both")],
)
def test_bad_pagination_arguments_are_typed_errors(gql, world, args, message):
    status, body = gql(f"{{ areas({args}) {{ edges {{ node {{ id }} }} }} }}", user=world.commander)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


def test_each_mutation_of_a_document_stands_on_its_own(gql, world):
    from graphql_relay import to_global_id

    from community.models import Area, ModeSwitch

    com_a = to_global_id("Area", world.com_a.pk)
    document = f"""mutation {{
      bad: switchAreaMode(areaId: "{com_a}", mode: EMERGENCY, reason: "{'x' * 2001}") {{ errors {{ code }} }}
      good: switchAreaMode(areaId: "{com_a}", mode: STANDBY) {{ errors {{ code }} switch {{ toMode }} }}
    }}"""
    data = gql.data(document, user=world.admin_a)
    assert data["bad"]["errors"] == [{"code": "TOO_LONG"}]
    assert data["good"] == {"errors": [], "switch": {"toMode": "STANDBY"}}
    assert list(ModeSwitch.objects.values_list("to_mode", flat=True)) == ["STANDBY"]
    assert Area.objects.get(pk=world.com_a.pk).mode == "STANDBY"


def test_an_argument_that_cannot_be_coerced_is_a_typed_error_not_internal(gql, world):
    status, body = gql('{ areas(after: 5) { totalCount } }', user=world.commander)
    assert status == 400 or body["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")


def test_a_cursor_that_is_not_from_the_list_is_a_typed_error(gql, world):
    status, body = gql('{ areas(first: 2, after: "bm90LWEtY3Vyc29y", offset: 1) { totalCount } }', user=world.commander)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "cursor" in error["message"]


@pytest.mark.parametrize("query, message", [
    ("{ nosuch }", "Cannot query field 'nosuch' on type 'Query'."),
    ("{ me { nosuch } }", "Cannot query field 'nosuch' on type"),
    ("{ me }", "must have a selection of subfields"),
    ('{ me(nosuch: 1) { id } }', "Unknown argument 'nosuch'"),
    ("query Q($n: Int) { me { id } }", "Variable '$n' is never used"),
    ("{ ...F } fragment F on Nope { id }", "Unknown type 'Nope'"),
    ("mutation { requestLoginCode { ok } }", "argument 'phone' of type 'String!' is required"),
])
def test_graphqls_own_rules_refuse_a_wrong_document_before_it_runs(gql, world, query, message):
    # graphql-core's validate() runs only the rules it is given: ours come on top of GraphQL's.
    status, body = gql(query, user=world.worker_a1)
    assert status == 400 and body.get("data") is None, body
    assert codes(body) == {"GRAPHQL_VALIDATION_FAILED"}
    assert any(message in e["message"] for e in body["errors"]), body


def test_with_introspection_off_errors_suggest_no_field_names(gql, settings, world):
    settings.GRAPHQL_INTROSPECTION = False
    status, body = gql("{ residentz { totalCount } }", user=world.worker_a1)
    assert status == 400 and "Cannot query field 'residentz'" in body["errors"][0]["message"]
    assert "Did you mean" not in body["errors"][0]["message"]
    settings.GRAPHQL_INTROSPECTION = True
    status, body = gql("{ residentz { totalCount } }", user=world.worker_a1)
    assert "Did you mean" in body["errors"][0]["message"]  # development: helpful


def test_graphql_answers_are_never_cached(gql, client, world):
    response = client.post("/graphql/", data=json.dumps({"query": "{ me { id } }"}), content_type="application/json")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Authorization" in response["Vary"]


def test_an_answer_the_server_cannot_shape_is_an_internal_error_logged_with_an_id(gql, world, monkeypatch, caplog):
    from community.models import User

    User.objects.filter(pk=world.worker_a1.pk).update(preferred_language="klingon")  # bad data in a row
    status, body = gql("{ me { preferredLanguage } }", user=world.worker_a1)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL" and error["extensions"]["errorId"]
    assert "klingon" not in error["message"]
    assert any(error["extensions"]["errorId"] in r.getMessage() for r in caplog.records)
