"""How a socket ends, as a client sees it (issue 17.4): a distinct close code and a short
reason for a missing, invalid or expired token and for a closed account; and a client that goes
away while pushes are being sent leaves no ERROR in the server's log."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
import threading
import time

import pytest
from django.conf import settings
from graphql_jwt.settings import jwt_settings
from websockets.exceptions import ConnectionClosed

from notifications import events
from notifications.realtime import publish
from schema.core.consumers import Close
from tests.graphql import token_for
from tests.wsclient import GraphQLWSClient

from .test_websocket import subscribe_to_area

pytestmark = pytest.mark.django_db(transaction=True)


def closed_with(ws: GraphQLWSClient, timeout: float = 5.0) -> tuple[int | None, str | None]:
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, None)
    except TimeoutError:
        pass
    return None, None


def init_with(url: str, payload: dict) -> tuple[int | None, str | None]:
    with GraphQLWSClient(url, init=False) as ws:
        ws.send({"type": "connection_init", "payload": payload})
        return closed_with(ws)


def short_lived_token(user, seconds: int) -> str:
    original = jwt_settings.JWT_EXPIRATION_DELTA
    jwt_settings.JWT_EXPIRATION_DELTA = dt.timedelta(seconds=seconds)
    try:
        return token_for(user)
    finally:
        jwt_settings.JWT_EXPIRATION_DELTA = original


def test_missing_invalid_and_expired_tokens_close_with_their_own_codes(world, live_server_asgi):
    url = live_server_asgi.ws_url
    assert init_with(url, {}) == (4442, "missing token")
    assert init_with(url, {"authorization": "Bearer not-a-jwt"}) == (4441, "invalid token")
    expired = short_lived_token(world.admin_a, -10)
    assert init_with(url, {"authorization": f"Bearer {expired}"}) == (4440, "token expired")
    world.admin_a.is_active = False
    world.admin_a.save(update_fields=["is_active"])
    assert init_with(url, {"authorization": f"Bearer {token_for(world.admin_a)}"}) == (4403, "account disabled")


def test_an_open_socket_closes_4440_when_its_token_expires(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, short_lived_token(world.admin_a, 2)) as ws:
        assert closed_with(ws, timeout=6) == (4440, "token expired")


def test_a_closed_account_ends_its_open_socket_4403(world, live_server_asgi, settings):
    settings.WS_GROUP_REFRESH_SECONDS = 0.2
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        type(world.admin_a).objects.filter(pk=world.admin_a.pk).update(is_active=False)
        assert closed_with(ws) == (4403, "account disabled")


def test_every_protocol_close_says_why(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        ws.send({"type": "subscribe", "id": "1", "payload": {"query": "{ me { id } }"}})
        assert closed_with(ws) == (4401, "unauthorized: subscribe before connection_ack")
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        ws.send("not json")
        assert closed_with(ws) == (4400, "malformed message")


def test_the_documented_close_codes_are_the_ones_sent():
    readme = (settings.BASE_DIR / "mobile_api_docs" / "README.md").read_text()
    documented = {int(code): reason for code, reason in re.findall(r"^\| (\d{4}) \| `([^`]+)` \|", readme, re.M)}
    assert documented == Close.REASONS
    assert all(len(reason.encode()) <= 123 for reason in documented.values())  # the WebSocket limit


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_a_client_that_vanishes_during_pushes_leaves_no_error_behind(world, live_server_asgi):
    errors = _Errors()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        for attempt in range(5):
            ws = GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_b1)).__enter__()
            subscribe_to_area(ws, world.com_b)
            event = events.make_event(
                events.AREA_MODE_CHANGED, areaId=world.com_b.pk, mode="STANDBY", fromMode="NORMAL",
                isDrill=False, reason=f"burst {attempt}", switchId=0, changedAt="2026-11-26T10:00:00+08:00")

            def burst(event=event):
                for _ in range(60):
                    publish(events.area_group(world.com_b.pk), event)

            sender = threading.Thread(target=burst)
            sender.start()
            ws.receive_for("s1", timeout=10)  # pushes are flowing ...
            ws.ws.socket.close()  # ... and the phone loses its connection (no close frame)
            sender.join()
            time.sleep(0.3)
        time.sleep(1.0)
        gc.collect()  # "Task exception was never retrieved" is logged when the task is collected
        time.sleep(0.2)
    finally:
        root.removeHandler(errors)
    assert [r.getMessage() for r in errors.records] == []
