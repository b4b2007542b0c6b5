"""One channel-layer membership per process and group (schema.core.local_groups): a grid's
event is one message to each server process, handed to every listening socket there; the
membership goes when the process's last listener leaves."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from graphql_relay import to_global_id

from emergency.switching import switch_mode
from notifications import events
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient, group_size

pytestmark = pytest.mark.django_db(transaction=True)
SUBSCRIPTION = operation("community/OnAreaModeChanged")


def _wait(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_three_sockets_of_one_process_share_one_membership_and_each_gets_the_event(world, live_server_asgi):
    group = events.area_group(world.com_a.pk)
    users = [world.worker_a1, world.admin_a, world.commander]
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(users[0])) as a, \
            GraphQLWSClient(live_server_asgi.ws_url, token_for(users[1])) as b, \
            GraphQLWSClient(live_server_asgi.ws_url, token_for(users[2])) as c:
        for ws in (a, b, c):
            ws.subscribe("s1", SUBSCRIPTION, {"areaId": to_global_id("Area", world.grid_a1.pk)})
        _wait(lambda: group_size(group) == 1)
        time.sleep(0.3)  # the other two join in memory only
        assert group_size(group) == 1
        with transaction.atomic():
            switch_mode(world.com_a, "EMERGENCY", by=world.admin_a, reason="台风", is_drill=True)
        received = [ws.receive_for("s1")["payload"]["data"]["areaModeChanged"] for ws in (a, b, c)]
        assert [e["mode"] for e in received] == ["EMERGENCY"] * 3
        a.send({"type": "complete", "id": "s1"})
        b.send({"type": "complete", "id": "s1"})
        time.sleep(0.3)
        assert group_size(group) == 1  # c still listens
        c.send({"type": "complete", "id": "s1"})
        _wait(lambda: group_size(group) == 0)


def test_with_background_publishing_the_switch_answers_and_then_the_event_reaches_the_socket(world, live_server_asgi, settings):
    """REALTIME_PUBLISH_IN_BACKGROUND (production): the request's events are held until its
    response has been sent (request_finished), then go from the publishing thread."""
    import json
    import urllib.request

    from notifications.realtime import wait_for_background_publishes

    settings.REALTIME_PUBLISH_IN_BACKGROUND = True
    group = events.area_group(world.com_a.pk)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        ws.subscribe("s1", SUBSCRIPTION, {"areaId": to_global_id("Area", world.grid_a1.pk)})
        _wait(lambda: group_size(group) == 1)
        body = json.dumps({"query": operation("community/SwitchAreaMode"), "variables": {
            "areaId": to_global_id("Area", world.com_a.pk), "mode": "EMERGENCY", "reason": "台风", "isDrill": True}}).encode()
        request = urllib.request.Request(live_server_asgi.http_url + "/graphql/", data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token_for(world.admin_a)}"})
        answer = json.loads(urllib.request.urlopen(request, timeout=10).read())
        assert answer["data"]["switchAreaMode"]["errors"] == []
        event = ws.receive_for("s1")["payload"]["data"]["areaModeChanged"]
        assert event["mode"] == "EMERGENCY" and event["isDrill"] is True
    wait_for_background_publishes()
