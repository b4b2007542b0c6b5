"""Odd values are input errors, never internal ones: lone surrogates and NUL characters in
any string, IDs and cursors that only look numeric, and webhook fields holding a NUL."""

import base64
import json

import pytest
from graphql_relay import to_global_id

from community.models import ModeSwitch, ResidentReport
from notifications.models import InboundSms
from tests.graphql import token_for
from tests.notifications.helpers import PUBLIC, inbound_params, signed_post
from tests.wsclient import GraphQLWSClient

pytestmark = pytest.mark.django_db

SWITCH = "mutation($area: ID!, $reason: String) { switchAreaMode(areaId: $area, mode: STANDBY, reason: $reason) { errors { code } } }"


def post_raw(client, body: str, user=None):
    """POST a JSON body written by hand: json.dumps cannot write a lone surrogate escape
    the way a client's encoder can ("\\ud800")."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"} if user else {}
    response = client.post("/graphql/", data=body.encode(), content_type="application/json", **headers)
    assert "Traceback" not in response.content.decode("utf-8", "replace")
    return response.status_code, response.json()


def raw_json(document: dict, escape: str) -> str:
    """`document` as JSON with its one "@" replaced by `escape` as written (json.dumps would
    escape the backslash of "\\ud800")."""
    return json.dumps(document, ensure_ascii=False).replace("@", escape, 1)


def codes(body):
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.mark.parametrize("value", ["\\ud800", "a\\udfffb", "\\u0000", "x\\u0000y"])
def test_a_lone_surrogate_or_nul_in_a_variable_is_bad_user_input(client, world, value):
    body = raw_json({"query": 'mutation($u: String!) { tokenAuth(username: $u, password: "x") { token } }', "variables": {"u": "@"}}, value)
    status, answer = post_raw(client, body)
    assert status == 400 and codes(answer) == ["BAD_USER_INPUT"]


def test_one_deep_inside_an_input_object_or_a_list_is_refused_and_nothing_changes(client, world):
    body = raw_json({"query": SWITCH, "variables": {"area": to_global_id("Area", world.com_a.pk), "reason": "停电@"}}, "\\ud83d")
    status, answer = post_raw(client, body, world.admin_a)
    assert status == 400 and codes(answer) == ["BAD_USER_INPUT"]
    assert not ModeSwitch.objects.exists()
    plan = '{"query": "mutation($a: [PlanActionInput!]!) { saveResponsePlan(areaId: \\"x\\", mode: STANDBY, name: \\"n\\", actions: $a) { errors { code } } }", "variables": {"a": [{"kind": "ISSUE_ALERT", "params": {"headline": ["ok", "\\u0000"]}}]}}'
    status, answer = post_raw(client, plan, world.admin_a)
    assert status == 400 and codes(answer) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("literal", ['\\"\\ud800\\"', '\\"\\\\u0000\\"', '\\"\\"\\"a\\u0000b\\"\\"\\"'])
def test_one_in_a_literal_of_the_document_is_refused(client, world, literal):
    # a raw surrogate in the text, a GraphQL \u0000 escape, a NUL in a block string
    body = raw_json({"query": 'mutation { tokenAuth(username: @, password: "x") { token } }'}, literal)
    status, answer = post_raw(client, body)
    assert status == 400 and codes(answer) in (["BAD_USER_INPUT"], ["GRAPHQL_VALIDATION_FAILED"])


def test_one_in_the_operation_name_is_refused(client):
    status, answer = post_raw(client, '{"query": "query Q { __typename }", "operationName": "Q\\ud800"}')
    assert status == 400 and codes(answer) == ["BAD_USER_INPUT"]


@pytest.mark.django_db(transaction=True)
def test_over_the_websocket_too(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.send(raw_json({"type": "subscribe", "id": "1", "payload": {
            "query": SWITCH, "variables": {"area": to_global_id("Area", world.com_a.pk), "reason": "@"}}}, "\\ud800"))
        message = ws.receive_for("1")
        assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        ws.subscribe("2", "{ me { username } }")
        assert ws.receive_for("2")["payload"]["data"]["me"]["username"] == "admin_a"
    assert not ModeSwitch.objects.exists()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("raw", ["Resident:²", "Resident:٣", "Resident:" + "9" * 5000, "Resident:" + "9" * 19, "Resident:-1",
                                 "Resident: 1", "Area:1e3"])
def test_an_id_that_only_looks_numeric_is_bad_user_input_in_a_query(gql, world, raw):
    status, body = gql(f'{{ node(id: "{b64(raw)}") {{ id }} }}', user=world.commander)
    assert codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize("raw", ["Area:²", "Area:" + "9" * 5000, "Area:" + "9" * 19])
def test_and_an_invalid_field_error_in_a_mutation(gql, world, raw):
    data = gql.data(SWITCH, {"area": b64(raw)}, user=world.admin_a)
    assert data["switchAreaMode"]["errors"] == [{"code": "INVALID"}]


@pytest.mark.parametrize("cursor", ["arrayconnection:-5", "arrayconnection:" + "9" * 30, "arrayconnection:²", "arrayconnection:"])
def test_a_cursor_with_an_impossible_offset_is_bad_user_input(gql, world, cursor):
    for argument in ("after", "before"):
        status, body = gql(f'{{ areas(first: 2, {argument}: "{b64(cursor)}") {{ totalCount edges {{ node {{ id }} }} }} }}',
                           user=world.commander)
        assert codes(body) == ["BAD_USER_INPUT"], body


@pytest.fixture
def twilio_signed(settings):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC


def test_an_inbound_sms_holding_nul_characters_is_stored_without_them(client, twilio_signed, django_capture_on_commit_callbacks):
    params = inbound_params("+86139\x0000000007", "是\x00 A7\u202e", sid="SM" + "2" * 31 + "\x00")
    params["To"] = "+8610690\x00000000"
    with django_capture_on_commit_callbacks():
        response = signed_post(client, "/sms/inbound/", params)
    assert response.status_code == 200  # Twilio does not retry: storing it is the only way not to lose it
    stored = InboundSms.objects.get()
    assert stored.message_sid == "SM" + "2" * 31 and stored.body == "是 A7"
    assert stored.phone == "+8613900000007" and stored.to_phone == "+8610690000000"
    assert "\x00" not in json.dumps([stored.message_sid, stored.phone, stored.to_phone, stored.body])


def test_a_status_callback_with_a_nul_in_its_sid_is_answered_not_crashed(client, twilio_signed):
    params = {"MessageSid": "SM\x00" + "1" * 32, "MessageStatus": "deliv\x00ered", "AccountSid": "AC" + "f" * 32, "ErrorCode": "3\x000003"}
    assert signed_post(client, "/sms/status/", params).status_code in (204, 400)


def test_a_report_keeps_what_was_typed_but_loses_what_was_not(gql, world):
    variables = {"kind": "HAZARD", "description": "井盖\u202e缺失\u2066了\u0007", "key": "k1",
                 "location": {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}}
    from tests.operations import operation

    data = gql.data(operation("community/SubmitReport"), variables, user=world.resident)
    assert data["submitReport"]["errors"] == []
    assert ResidentReport.objects.get().description == "井盖缺失了"
