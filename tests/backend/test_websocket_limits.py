"""WebSocket abuse: floods and connection storms are cut off, and other clients carry on."""

import json

import pytest
from graphql_relay import to_global_id
from websockets.exceptions import ConnectionClosed

from notifications import events
from tests.backend.test_websocket import SUBSCRIPTION, group_size
from tests.graphql import token_for
from tests.wsclient import GraphQLWSClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_message_flood_closes_only_the_flooding_socket(world, live_server_asgi, settings):
    settings.WS_MESSAGES_PER_10S = 5
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as calm, \
            GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as flood:
        calm.subscribe("s1", SUBSCRIPTION, {"areaId": to_global_id("Area", world.com_a.pk)})
        calm.wait_until_subscribed(lambda: group_size(events.area_group(world.com_a.pk)) > 0)
        answered = 0
        with pytest.raises(ConnectionClosed) as closed:
            for i in range(50):  # one ping at a time: over the budget, the answer is the close
                flood.send({"type": "ping", "payload": {"i": i}})
                assert flood.receive()["type"] == "pong"
                answered += 1
        assert closed.value.rcvd.code == 1008 and 4 <= answered < 50
        calm.send({"type": "ping"})
        assert calm.receive_for_type("pong")["type"] == "pong"


def test_a_burst_flood_is_cut_off_and_the_server_carries_on(world, live_server_asgi, settings):
    # Sixty messages at once: the server closes after the budget and ignores the rest (it
    # must not try to close twice). The ASGI server drops the TCP connection right after its
    # close frame, so a client still sending may see a reset instead of 1008: either way it
    # is closed, and everyone else carries on.
    settings.WS_MESSAGES_PER_10S = 20
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as flood:
        for i in range(60):
            try:
                flood.send({"type": "ping", "payload": {"i": i}})
            except ConnectionClosed:
                break
        with pytest.raises(ConnectionClosed):
            while True:
                flood.receive()
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as calm:
        calm.send({"type": "ping"})
        assert calm.receive_for_type("pong")["type"] == "pong"


def test_too_many_connections_from_one_address_are_told_to_try_later(world, live_server_asgi, settings):
    settings.WS_CONNECTS_PER_ADDRESS_PER_MINUTE = 3
    token = token_for(world.admin_a)
    for _ in range(3):
        with GraphQLWSClient(live_server_asgi.ws_url, token):
            pass
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as refused:
        assert refused.close_code() == 1013


def test_too_many_connections_of_one_user_are_told_to_try_later(world, live_server_asgi, settings):
    settings.WS_CONNECTS_PER_USER_PER_MINUTE = 2
    for _ in range(2):
        with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)):
            pass
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as third:
        third.send({"type": "connection_init", "payload": {"token": token_for(world.admin_a)}})
        assert third.close_code() == 1013
    # Another person from the same address is still served.
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as other:
        other.subscribe("q", "{ me { username } }")
        assert json.dumps(other.receive_for("q")).count("worker_a1") == 1
