"""GraphQL over WebSocket: the graphql-transport-ws protocol, spoken by a real client to a real
ASGI server, with JWT in connection_init and events arriving from the channel layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from graphql_relay import to_global_id

from notifications import events
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient, group_size

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIPTION = operation("community/OnAreaModeChanged")




def subscribe_to_area(ws: GraphQLWSClient, area, op_id: str = "s1") -> None:
    ws.subscribe(op_id, SUBSCRIPTION, {"areaId": to_global_id("Area", area.pk)})
    ws.wait_until_subscribed(lambda: group_size(events.area_group(area.pk)) > 0)


def test_server_speaks_the_graphql_transport_ws_subprotocol(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        assert ws.subprotocol == "graphql-transport-ws"


def test_other_subprotocol_is_closed_4406(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, init=False, subprotocols=["graphql-ws"]) as ws:
        assert ws.close_code() == 4406


def test_connection_init_without_token_is_closed_4442(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        ws.send({"type": "connection_init", "payload": {}})
        assert ws.close_code() == 4442


def test_connection_init_with_bad_token_is_closed_4441(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        ws.send({"type": "connection_init", "payload": {"authorization": "Bearer not-a-jwt"}})
        assert ws.close_code() == 4441


def test_token_may_also_be_sent_bare_under_token(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        ws.send({"type": "connection_init", "payload": {"token": token_for(world.admin_a)}})
        assert ws.receive()["type"] == "connection_ack"


def test_subscribe_before_ack_is_4401(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        ws.subscribe("1", "{ me { username } }")
        assert ws.close_code() == 4401


def test_second_connection_init_is_4429(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.send({"type": "connection_init", "payload": {"token": token_for(world.admin_a)}})
        assert ws.close_code() == 4429


def test_no_connection_init_in_time_is_4408(world, live_server_asgi, settings):
    settings.WS_CONNECTION_INIT_TIMEOUT = 0.3
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        assert ws.close_code(timeout=5) == 4408


@pytest.mark.parametrize("raw", ["not json", json.dumps([1, 2]), json.dumps({"type": "bogus"}), json.dumps({"payload": {}})])
def test_malformed_message_is_4400(world, live_server_asgi, raw):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.send(raw)
        assert ws.close_code() == 4400


def test_oversized_message_is_closed(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.send(json.dumps({"type": "ping", "payload": {"x": "a" * (settings.WS_MAX_MESSAGE_BYTES + 10)}}))
        assert ws.close_code() in (1009, 4400)


def test_ping_is_answered_with_pong_echoing_payload(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.send({"type": "ping", "payload": {"t": 1}})
        assert ws.receive() == {"type": "pong", "payload": {"t": 1}}


def test_query_over_websocket_answers_next_then_complete(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        ws.subscribe("q1", "{ me { username } }")
        assert ws.receive_for("q1") == {"type": "next", "id": "q1", "payload": {"data": {"me": {"username": "worker_a1"}}}}
        assert ws.receive_for("q1") == {"type": "complete", "id": "q1"}


def test_duplicate_operation_id_is_4409(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        subscribe_to_area(ws, world.com_a, "dup")
        ws.subscribe("dup", SUBSCRIPTION, {"areaId": to_global_id("Area", world.com_a.pk)})
        assert ws.close_code() == 4409


def test_invalid_document_gets_an_error_message_not_a_close(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.subscribe("e1", "subscription { nope }")
        message = ws.receive_for("e1")
        assert message["type"] == "error"
        assert message["payload"][0]["message"]


def test_subscribing_to_an_area_you_cannot_see_is_an_error(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        ws.subscribe("s", SUBSCRIPTION, {"areaId": to_global_id("Area", world.grid_b1.pk)})
        message = ws.receive_for("s")
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND"
    assert group_size(events.area_group(world.grid_b1.pk)) == 0


def test_mode_switch_by_http_mutation_reaches_websocket_subscriber(world, live_server_asgi, gql):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        subscribe_to_area(ws, world.grid_a1)
        data = gql.data(
            operation("community/SwitchAreaMode"),
            {"areaId": to_global_id("Area", world.com_a.pk), "mode": "EMERGENCY", "reason": "台风", "isDrill": True},
            user=world.admin_a,
        )
        assert data["switchAreaMode"]["errors"] == []
        message = ws.receive_for("s1")
    event = message["payload"]["data"]["areaModeChanged"]
    assert event["area"]["name"] == "甲一网格"
    assert event["switchedArea"]["name"] == "甲社区"
    # A drill is an overlay: the event carries the drill's mode, the area's effective mode stays real.
    assert (event["mode"], event["fromMode"], event["effectiveMode"]) == ("EMERGENCY", "NORMAL", "NORMAL")
    assert event["isDrill"] is True and event["reason"] == "台风"


def test_complete_stops_the_subscription_and_leaves_the_group(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        subscribe_to_area(ws, world.com_a)
        ws.send({"type": "complete", "id": "s1"})
        ws.wait_until_subscribed(lambda: group_size(events.area_group(world.com_a.pk)) == 0)


def test_disconnect_leaves_every_group(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        subscribe_to_area(ws, world.grid_a2)
    GraphQLWSClient(live_server_asgi.ws_url).wait_until_subscribed(
        lambda: all(group_size(events.area_group(a.pk)) == 0 for a in world.grid_a2.ancestors_and_self())
    )


def test_socket_closes_when_the_access_token_expires(world, live_server_asgi):
    import datetime as dt

    from graphql_jwt.settings import jwt_settings

    original = jwt_settings.JWT_EXPIRATION_DELTA
    jwt_settings.JWT_EXPIRATION_DELTA = dt.timedelta(seconds=2)
    try:
        token = token_for(world.admin_a)
    finally:
        jwt_settings.JWT_EXPIRATION_DELTA = original
    with GraphQLWSClient(live_server_asgi.ws_url, token) as ws:
        assert ws.close_code(timeout=6) == 4440


def _publish_from_another_process(area_pk: int) -> None:
    """A separate OS process publishes through the channel layer, as a Celery worker would."""
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'backend.settings'); django.setup();"
        "from notifications import events; from notifications.realtime import publish;"
        f"n = publish(events.area_group({area_pk}), events.make_event(events.AREA_MODE_CHANGED, areaId={area_pk},"
        " mode='STANDBY', fromMode='NORMAL', isDrill=False, reason='from a worker', switchId=0,"
        " changedAt='2026-11-26T10:00:00+08:00')); assert n == 1"
    )
    subprocess.run([sys.executable, "-c", script], check=True, env=os.environ.copy(), timeout=60)


@pytest.mark.redis
def test_event_published_by_another_process_reaches_the_subscriber(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_b1)) as ws:
        subscribe_to_area(ws, world.com_b)
        _publish_from_another_process(world.com_b.pk)
        event = ws.receive_for("s1", timeout=10)["payload"]["data"]["areaModeChanged"]
    assert event["switchedArea"]["name"] == "乙社区"
    assert event["reason"] == "from a worker"


def test_event_published_from_another_thread_reaches_the_subscriber(world, live_server_asgi):
    """On the embedded footing the in-process Celery worker publishes from its own thread."""
    import threading

    from notifications.realtime import publish

    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_b1)) as ws:
        subscribe_to_area(ws, world.com_b)
        event = events.make_event(
            events.AREA_MODE_CHANGED, areaId=world.com_b.pk, mode="STANDBY", fromMode="NORMAL",
            isDrill=False, reason="from a thread", switchId=0, changedAt="2026-11-26T10:00:00+08:00",
        )
        sender = threading.Thread(target=publish, args=(events.area_group(world.com_b.pk), event))
        sender.start()
        sender.join()
        received = ws.receive_for("s1", timeout=10)["payload"]["data"]["areaModeChanged"]
    assert received["reason"] == "from a thread"


def test_an_open_socket_follows_a_withdrawn_role_and_a_closed_account(world, live_server_asgi, settings):
    from community.models import RoleAssignment, User

    settings.WS_GROUP_REFRESH_SECONDS = 0.2
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        areas = "{ areas(first: 20) { totalCount } }"  # answered through the permission module's role cache
        ws.subscribe("q1", areas)
        assert ws.receive_for("q1")["payload"]["data"]["areas"]["totalCount"] > 0
        RoleAssignment.objects.filter(user=world.admin_a).delete()
        ws.subscribe("q2", areas)  # the next operation sees the change
        assert ws.receive_for("q2")["payload"]["data"]["areas"]["totalCount"] == 0
        User.objects.filter(pk=world.admin_a.pk).update(is_active=False)
        assert ws.close_code() == 4403  # within a group-refresh period, even with nothing asked
