"""GraphQL over WebSocket, speaking the graphql-transport-ws protocol (the `graphql-ws` library's
protocol, used by Apollo, urql and Relay clients).

The consumer speaks the protocol and hands everything else to the schema:
- connection_init must arrive within WS_CONNECTION_INIT_TIMEOUT and carry an access token in
  its payload ({"authorization": "Bearer <token>"} or {"token": "<token>"}); the socket is
  acknowledged, or refused with 4442 (no token), 4441 (invalid token), 4440 (expired) or 4403
  (account disabled), and closed with 4440 at the token's expiry or 4403 when the account is
  closed meanwhile.
- subscribe runs a query or mutation once (next + complete) or a subscription until the
  client completes it; subscriptions are fed by channel-layer groups, so an event published
  anywhere (a Celery worker, another web process) reaches every subscriber.
- close codes: 4400 bad message, 4401 subscribe before ack, 4403 account disabled, 4406
  sub-protocol not acceptable, 4408 no connection_init in time, 4409 duplicate id, 4429
  repeated init, 4440 token expired, 4441 invalid token, 4442 missing token, 4500 internal
  error; 1009 message too big; 1008 message flood; 1013 too many connections from this
  address or user (try again later). Every close carries a short reason (Close.REASONS).
- a client that goes away mid-send is not an error: what was still to be sent is dropped.
- abuse limits: connections per client address and per user per minute (shared through
  notifications.ratelimit, Redis when configured), and messages per connection (a local
  token bucket), so one flooding client cannot starve the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast
from graphql.execution import create_source_event_stream
from graphql_jwt.exceptions import JSONWebTokenError, JSONWebTokenExpired

from notifications import ratelimit
from privacy.access import collecting
from privacy.models import Channel

from ..schema import schema
from .access_log import AccessLogMiddleware
from .auth import AccountDisabled, token_expiry, user_from_token
from .execution import format_error, prepare_document
from .inputs import TextArgumentsMiddleware, refused_input
from .local_groups import LocalGroups
from .middleware import PaginationArgumentsMiddleware

logger = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"


class Close:
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    INIT_TIMEOUT = 4408
    SUBSCRIBER_EXISTS = 4409
    TOO_MANY_INITS = 4429
    INTERNAL = 4500
    TOKEN_EXPIRED = 4440
    TOKEN_INVALID = 4441
    TOKEN_MISSING = 4442
    TOO_BIG = 1009
    FLOOD = 1008
    TRY_AGAIN_LATER = 1013

    # The reason sent with each code (at most 123 bytes; documented in mobile_api_docs).
    REASONS = {
        BAD_REQUEST: "malformed message",
        UNAUTHORIZED: "unauthorized: subscribe before connection_ack",
        FORBIDDEN: "account disabled",
        SUBPROTOCOL_NOT_ACCEPTABLE: "subprotocol not acceptable: use graphql-transport-ws",
        INIT_TIMEOUT: "connection_init timeout",
        SUBSCRIBER_EXISTS: "subscriber for this id already exists",
        TOO_MANY_INITS: "too many initialisation requests",
        TOKEN_EXPIRED: "token expired",
        TOKEN_INVALID: "invalid token",
        TOKEN_MISSING: "missing token",
        INTERNAL: "internal server error",
        TOO_BIG: "message too big",
        FLOOD: "too many messages",
        TRY_AGAIN_LATER: "too many connections; try again later",
    }


class EventStream:
    """Events from a set of channel-layer groups, as an async iterator (one subscription)."""

    def __init__(self, consumer: GraphQLTransportWSConsumer, groups: list[str]):
        self.consumer = consumer
        self.groups = list(dict.fromkeys(groups))
        self.queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=1000)

    async def open(self) -> EventStream:
        """Join the groups now, so events published from here on are not missed."""
        await self.consumer.add_listener(self)
        return self

    async def close(self) -> None:
        await self.consumer.remove_listener(self)

    async def __aenter__(self) -> EventStream:
        return await self.open()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[dict]:
        return self

    async def __anext__(self) -> dict:
        return await self.queue.get()

    def offer(self, event: dict) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning("subscriber queue full; event dropped (clients resync by query)")


class WSContext:
    """What resolvers see as info.context over WebSocket."""

    def __init__(self, consumer: GraphQLTransportWSConsumer):
        self.consumer = consumer
        self.META: dict[str, Any] = {}
        self.COOKIES: dict[str, str] = {}
        self.transport = "websocket"

    _user = None

    @property
    def user(self):
        """The socket's user as last re-read: a role withdrawn applies to open subscriptions."""
        return self._user if self._user is not None else self.consumer.user

    @user.setter
    def user(self, value):  # a mutation that logs someone in sets it for its own operation
        self._user = value

    def listen(self, groups: list[str]) -> EventStream:
        return EventStream(self.consumer, groups)


class GraphQLTransportWSConsumer(AsyncWebsocketConsumer):
    closing = False

    async def connect(self) -> None:
        self.user = AnonymousUser()
        self.acknowledged = False
        self.init_received = False
        self.operations: dict[str, asyncio.Task] = {}
        self.listeners: dict[str, set[EventStream]] = {}
        self.timers: list[asyncio.Task] = []
        self.message_budget = MessageBudget(settings.WS_MESSAGES_PER_10S, 10.0)
        if PROTOCOL not in self.scope.get("subprotocols", []):
            await self.accept()
            await self.close(code=Close.SUBPROTOCOL_NOT_ACCEPTABLE)
            return
        await self.accept(subprotocol=PROTOCOL)
        address = (self.scope.get("client") or ["unknown"])[0]
        if not await _allowed(f"ws:connect:addr:{address}", settings.WS_CONNECTS_PER_ADDRESS_PER_MINUTE):
            logger.warning("websocket connections from one address over the limit; closing")
            await self.close(code=Close.TRY_AGAIN_LATER)
            return
        self.timers.append(asyncio.ensure_future(self._init_timeout()))

    async def close(self, code=None, reason=None):
        """Close once. The server can decide to close more than once (the rest of a flood is
        already queued; a timer fires while a message is handled); a second websocket.close
        makes the ASGI server fail the connection without the close code the client needs."""
        if self.closing:
            return
        self.closing = True
        try:
            await super().close(code=code, reason=reason or Close.REASONS.get(code))
        except OSError:  # the client is already gone (uvicorn's ClientDisconnected)
            pass

    async def disconnect(self, code):
        for task in list(self.operations.values()) + self.timers:
            task.cancel()
        self.operations.clear()
        if self.listeners:
            hub = await LocalGroups.of(self.channel_layer)
            for group in list(self.listeners):
                await hub.leave(group, self)
        self.listeners.clear()

    async def _init_timeout(self):
        await asyncio.sleep(settings.WS_CONNECTION_INIT_TIMEOUT)
        if not self.init_received:
            await self.close(code=Close.INIT_TIMEOUT)

    async def _still_allowed(self) -> bool:
        """Re-read the user (and so their roles): an account closed since the socket opened
        is closed with 4403; a role withdrawn stops applying at once, also to open
        subscriptions. Runs before each operation and with every group refresh."""
        fresh = await sync_to_async(_reload_user)(self.user.pk)  # closed account: 4403
        if fresh is None:
            await self.close(code=Close.FORBIDDEN)
            return False
        self.user = fresh
        return True

    async def _refresh_groups(self):
        """Re-read the user now and then (a closed account's socket is closed). The group
        memberships — one per process, not per socket — are re-added by the process's
        LocalGroups (a Redis restart forgets them)."""
        while True:
            await asyncio.sleep(settings.WS_GROUP_REFRESH_SECONDS)
            if not await self._still_allowed():
                return

    async def _close_at(self, expires_at: int):
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(code=Close.TOKEN_EXPIRED)

    # --- incoming ------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:  # what arrives after we closed is not answered
            return
        raw = text_data if text_data is not None else bytes_data
        if raw is not None and len(raw) > settings.WS_MAX_MESSAGE_BYTES:
            await self.close(code=Close.TOO_BIG)
            return
        if not self.message_budget.take():
            logger.warning("websocket message flood from user %s; closing", getattr(self.user, "pk", None))
            await self.close(code=Close.FLOOD)
            return
        try:
            message = json.loads(raw)
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                raise ValueError("message must be an object with a type")
        except (ValueError, TypeError):
            await self.close(code=Close.BAD_REQUEST)
            return
        handler = {
            "connection_init": self._on_init,
            "ping": self._on_ping,
            "pong": self._on_pong,
            "subscribe": self._on_subscribe,
            "complete": self._on_complete,
        }.get(message["type"])
        if handler is None:
            await self.close(code=Close.BAD_REQUEST)
            return
        try:
            await handler(message)
        except Exception:
            logger.exception("websocket handler failed")
            await self.close(code=Close.INTERNAL)

    async def _on_init(self, message):
        if self.init_received:
            await self.close(code=Close.TOO_MANY_INITS)
            return
        self.init_received = True
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.close(code=Close.BAD_REQUEST)
            return
        token = _token_from_payload(payload)
        if not token:
            await self.close(code=Close.TOKEN_MISSING)
            return
        try:
            self.user = await sync_to_async(_authenticate)(token)
        except JSONWebTokenExpired:
            await self.close(code=Close.TOKEN_EXPIRED)
            return
        except AccountDisabled:
            await self.close(code=Close.FORBIDDEN)
            return
        except JSONWebTokenError:  # not ours, tampered with, malformed
            await self.close(code=Close.TOKEN_INVALID)
            return
        if not await _allowed(f"ws:connect:user:{self.user.pk}", settings.WS_CONNECTS_PER_USER_PER_MINUTE):
            logger.warning("websocket connections of user %s over the limit; closing", self.user.pk)
            await self.close(code=Close.TRY_AGAIN_LATER)
            return

        expires_at = token_expiry(token)
        if expires_at:
            self.timers.append(asyncio.ensure_future(self._close_at(expires_at)))
        self.acknowledged = True
        self.timers.append(asyncio.ensure_future(self._refresh_groups()))
        await self._send({"type": "connection_ack"})

    async def _on_ping(self, message):
        reply = {"type": "pong"}
        if "payload" in message:
            reply["payload"] = message["payload"]
        await self._send(reply)

    async def _on_pong(self, message):
        return None

    async def _on_subscribe(self, message):
        op_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            await self.close(code=Close.BAD_REQUEST)
            return
        if not self.acknowledged:
            await self.close(code=Close.UNAUTHORIZED)
            return
        if op_id in self.operations:
            await self.close(code=Close.SUBSCRIBER_EXISTS)
            return
        if len(self.operations) >= settings.WS_MAX_SUBSCRIPTIONS:
            await self._send_error(op_id, [GraphQLError(
                f"At most {settings.WS_MAX_SUBSCRIPTIONS} operations per connection.",
                extensions={"code": "RATE_LIMITED"},
            )])
            return
        task = asyncio.ensure_future(self._run_operation(op_id, payload))
        self.operations[op_id] = task

    async def _on_complete(self, message):
        op_id = message.get("id")
        task = self.operations.pop(op_id, None) if isinstance(op_id, str) else None
        if task is not None:
            task.cancel()

    # --- execution -----------------------------------------------------------------------
    async def _run_operation(self, op_id: str, payload: dict):
        try:
            if not await self._still_allowed():
                return
            graphql_schema = schema.graphql_schema
            document, errors = prepare_document(graphql_schema, payload["query"])
            if errors or document is None:
                await self._send_error(op_id, errors)
                return
            variables = payload.get("variables") or None
            if variables is not None and not isinstance(variables, dict):
                await self._send_error(op_id, [GraphQLError("variables must be an object")])
                return
            operation_name = payload.get("operationName")
            refused = refused_input(document, variables, operation_name)
            if refused is not None:
                await self._send_error(op_id, [refused])
                return
            operation = get_operation_ast(document, operation_name)
            if operation is None:
                await self._send_error(op_id, [GraphQLError("Unknown or ambiguous operation.")])
                return
            context = WSContext(self)
            if operation.operation == OperationType.SUBSCRIPTION:
                await self._run_subscription(op_id, graphql_schema, document, context, variables, operation_name)
            else:
                result = await sync_to_async(_execute_once)(graphql_schema, document, context, variables, operation_name)
                await self._send_next(op_id, result)
                await self._send({"type": "complete", "id": op_id})
        except asyncio.CancelledError:
            raise
        except Exception:
            if self.closing:  # the client went away meanwhile: nothing to tell anyone
                return
            logger.exception("websocket operation failed")
            await self.close(code=Close.INTERNAL)
        finally:
            self.operations.pop(op_id, None)

    async def _run_subscription(self, op_id, graphql_schema, document, context, variables, operation_name):
        stream = await create_source_event_stream(
            graphql_schema, document, context_value=context,
            variable_values=variables, operation_name=operation_name,
        )
        if isinstance(stream, ExecutionResult):
            await self._send_error(op_id, stream.errors or [GraphQLError("Subscription failed.")])
            return
        try:
            async for event in stream:
                # Not on the process's one thread for sync code (thread_sensitive): an event to
                # a grid's 1,000 sockets here would queue every HTTP request (the switch's own
                # answer included) behind 1,000 executions.
                result = await sync_to_async(_execute_event, thread_sensitive=False)(
                    graphql_schema, document, event, context, variables, operation_name
                )
                await self._send_next(op_id, result)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        await self._send({"type": "complete", "id": op_id})

    # --- groups --------------------------------------------------------------------------
    # One membership per process and group (schema.core.local_groups): the process receives
    # each event once and hands it to its sockets here, in linli_event.
    async def add_listener(self, stream: EventStream) -> None:
        hub = await LocalGroups.of(self.channel_layer)
        for group in stream.groups:
            if group not in self.listeners:
                self.listeners[group] = set()
                await hub.join(group, self)
            self.listeners[group].add(stream)

    async def remove_listener(self, stream: EventStream) -> None:
        for group in stream.groups:
            members = self.listeners.get(group)
            if members is None:
                continue
            members.discard(stream)
            if not members:
                del self.listeners[group]
                await (await LocalGroups.of(self.channel_layer)).leave(group, self)

    async def linli_event(self, message):
        group = message.get("group")
        event = message.get("event") or {}
        targets = self.listeners.get(group, set()) if group else set().union(*self.listeners.values()) if self.listeners else set()
        for stream in list(targets):
            stream.offer(event)

    # --- outgoing ------------------------------------------------------------------------
    async def _send(self, message: dict):
        if self.closing:
            return
        try:
            await self.send(text_data=json.dumps(message, ensure_ascii=False, default=str))
        except OSError:
            # The client went away (uvicorn's ClientDisconnected) before its disconnect was
            # handled: drop the rest quietly; disconnect() ends the operations.
            self.closing = True

    async def _send_next(self, op_id: str, result: ExecutionResult):
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        await self._send({"type": "next", "id": op_id, "payload": body})

    async def _send_error(self, op_id: str, errors):
        await self._send({"type": "error", "id": op_id, "payload": [format_error(e) for e in errors]})


class MessageBudget:
    """A per-connection token bucket: `limit` messages per `period` seconds, refilling."""

    def __init__(self, limit: int, period: float):
        self.rate = limit / period
        self.capacity = float(limit)
        self.tokens = float(limit)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


async def _allowed(key: str, per_minute: int) -> bool:
    try:
        allowance = await sync_to_async(ratelimit.hit, thread_sensitive=False)(key, limit=per_minute, period=60.0)
    except Exception:  # noqa: BLE001 - a limiter outage must not lock everyone out
        logger.warning("rate limiter unavailable; allowing websocket connection")
        return True
    return allowance.allowed


def _token_from_payload(payload: dict) -> str | None:
    for key in ("authorization", "Authorization", "authToken", "token"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            parts = value.split()
            if len(parts) == 2 and parts[0].lower() in ("bearer", "jwt"):
                return parts[1]
            if len(parts) == 1:
                return parts[0]
    return None


def _reload_user(pk):
    close_old_connections()
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def _authenticate(token: str):
    close_old_connections()
    return user_from_token(token)


def _middleware() -> list:
    """The HTTP view's graphene middleware, except JWT (the socket authenticated at init)."""

    return [PaginationArgumentsMiddleware(), TextArgumentsMiddleware(), AccessLogMiddleware()]


def _execute_once(schema, document, context, variables, operation_name):
    close_old_connections()
    # Mutations are atomic one by one (BaseMutation), as over HTTP.
    with collecting(lambda: context.user, channel=Channel.API, operation=operation_name or ""):
        return execute(schema, document, context_value=context, variable_values=variables, operation_name=operation_name,
                       middleware=_middleware())


def _execute_event(schema, document, event, context, variables, operation_name):
    close_old_connections()
    with collecting(lambda: context.user, channel=Channel.API, operation=operation_name or ""):
        return execute(schema, document, root_value=event, context_value=context, variable_values=variables,
                       operation_name=operation_name, middleware=_middleware())
