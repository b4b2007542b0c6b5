"""A real graphql-transport-ws client for tests (the `websockets` library, synchronous API).

    with GraphQLWSClient(live_server_asgi.ws_url, token=token_for(user)) as ws:
        ws.subscribe("1", SUBSCRIPTION, {"areaId": area_id})
        message = ws.receive()          # {"type": "next", "id": "1", "payload": {...}}
"""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

PROTOCOL = "graphql-transport-ws"


class GraphQLWSClient:
    def __init__(self, url: str, token: str | None = None, *, init: bool = True, subprotocols=(PROTOCOL,)):
        self.url = url
        self.token = token
        self.init = init
        self.subprotocols = list(subprotocols)
        self.ws = None

    def __enter__(self) -> GraphQLWSClient:
        # connect() is a context manager: entered here, exited in __exit__.
        self._connection = connect(self.url, subprotocols=self.subprotocols or None, open_timeout=10)
        self.ws = self._connection.__enter__()
        if self.init:
            payload = {"authorization": f"Bearer {self.token}"} if self.token else {}
            self.send({"type": "connection_init", "payload": payload})
            ack = self.receive()
            assert ack["type"] == "connection_ack", ack
        return self

    def __exit__(self, *exc) -> None:
        self._connection.__exit__(*exc)

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    def send(self, message: dict[str, Any] | str) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout))

    def subscribe(self, op_id: str, query: str, variables: dict | None = None) -> None:
        self.send({"type": "subscribe", "id": op_id, "payload": {"query": query, "variables": variables or {}}})

    def receive_for(self, op_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message for operation `op_id` (skipping pings and other operations)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message.get("type") == "ping":
                self.send({"type": "pong"})
                continue
            if message.get("id") == op_id:
                return message

    def receive_for_type(self, message_type: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message of this type (skipping others)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message.get("type") == message_type:
                return message

    def close_code(self, timeout: float = 5.0) -> int | None:
        """Wait for the server to close; the close code it sent."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            return None
        return None

    def wait_until_subscribed(self, check, timeout: float = 5.0) -> None:
        """Subscriptions join their groups asynchronously; poll `check()` until it is true."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("subscription did not become active in time")
            time.sleep(0.02)


def group_size(group: str) -> int:
    """How many channels are in a channel-layer group (in-memory or Redis layer): the way a
    test waits until a subscription has really joined."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if hasattr(layer, "groups"):  # in-memory
        return len(layer.groups.get(group, {}))

    async def count():
        async with layer.connection(layer.consistent_hash(group)) as conn:
            return await conn.zcard(layer._group_key(group))

    return async_to_sync(count)()
