"""GraphQL over websockets: both protocols on `/graphql`, with Portico's connection hygiene.

- `graphql-transport-ws` (the `graphql-ws` npm library) and the legacy `graphql-ws`
  (subscriptions-transport-ws, Apollo's old client): Strawberry's handlers, extended here.
- Credentials: the `connection_init` payload's `Authorization` (HTTP Basic or an access token's
  Bearer, as over HTTP), else the upgrade request's `Authorization` header. A socket opened
  with an access token is closed with 4403 when the token expires. Wrong or missing:
  graphql-transport-ws closes with 4403; graphql-ws sends `connection_error` and closes with
  4403. Nothing else is sent.
- Keep-alive: the server pings every `ws_keepalive_interval` seconds at the protocol level
  (`ping` on graphql-transport-ws, `ka` on graphql-ws) so idle sockets survive proxies and
  clients can tell a dead server; uvicorn adds websocket ping frames at the same interval. One
  task per process pings every socket (one shared frame), not a task per socket.
- Everything a socket is sent goes through its `Outbox` (app/graphql/wire.py), in order and
  never waiting: a client that stops reading is closed with 4429 once
  `ws_max_queued_messages` messages wait for it. Live results come from the fan-out
  (app/graphql/fanout.py), which each operation's task hands its socket and id to (`LIVE`).
- Every message is read under PORTICO_GRAPHQL_MAX_BODY_BYTES (one more byte closes the socket
  with 1009, message too big) and decoded by app/http_body.decode_json (bounded; a message
  that is not acceptable JSON closes it with 4400). Before `connection_init` succeeded no
  document is parsed: a `subscribe`/`start` closes the socket with 4401 (Strawberry's handlers).
- `connection_init` must arrive within `ws_connection_init_timeout` seconds (4408 otherwise),
  and one socket runs at most `ws_max_subscriptions` operations at once.
- Every open socket is registered in `OpenSockets`, so a shutting-down replica closes them
  with 1012 (service restart) and clients reconnect elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Protocol

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from app.graphql.context import AUTH_FAILED, Context
from app.graphql.fanout import DATA, LIVE, NEXT, FanOut, LiveOperation, encode
from app.graphql.persisted import Documents, Refusal
from app.graphql.wire import Frame, Outbox
from app.http_auth import caller_from_authorization
from app.http_body import MalformedJson, decode_json
from app.porting.errors import CATALOG
from app.store.conflicts import unavailable

log = logging.getLogger(__name__)

FORBIDDEN = 4403
INIT_TIMEOUT = 4408
SERVICE_RESTART = 1012
MESSAGE_TOO_BIG = 1009
PING = Frame(encode({"type": "ping"}))  # graphql-transport-ws keep-alive, the same bytes for all
KEEP_ALIVE = Frame(encode({"type": "ka"}))  # graphql-ws


def rejection_payload() -> dict[str, object]:
    return {"message": CATALOG[AUTH_FAILED][0], "code": AUTH_FAILED}


def authorization_of(payload: Mapping[str, Any] | None) -> str | None:
    """`Authorization` from a connection_init payload (any case; also under `headers`, where
    some clients put it)."""
    if not payload:
        return None
    for source in (payload, payload.get("headers")):
        if isinstance(source, Mapping):
            for key, value in source.items():
                if isinstance(key, str) and key.lower() == "authorization":
                    return value if isinstance(value, str) else ""
    return None


async def connect(ctx: Context) -> bool:
    """Authenticate a socket once, at connection_init: the payload's credentials, else the
    upgrade request's. The caller then holds for every operation on the socket."""
    header = authorization_of(ctx.connection_params)
    if header is None:
        header = ctx.request.headers.get("authorization")
    ctx.caller = await caller_from_authorization(ctx.services, header)
    return ctx.caller is not None


def close_at_expiry(handler: Any) -> asyncio.Task[None] | None:
    """An access token ends the socket it authenticated when it expires: close 4403."""
    caller = handler.context.caller
    if caller is None or caller.expires_at is None:
        return None
    delay = (caller.expires_at - handler.context.services.clock()).total_seconds()

    async def expire() -> None:
        await asyncio.sleep(max(0.0, delay))
        await handler.websocket.close(FORBIDDEN, "Access token expired")

    return asyncio.create_task(expire(), name="portico-ws-token-expiry")


def stop_expiry(handler: Any) -> None:
    task = getattr(handler, "_expiry", None)
    if task is not None:
        task.cancel()
        handler._expiry = None


async def persisted_payload(handler: Any, payload: object) -> dict[str, Any] | Refusal:
    """A subscribe/start payload with the document it names (APQ, trusted documents:
    app/graphql/persisted.py), before anything is parsed; the socket's caller is known."""
    if not isinstance(payload, dict):
        return {}  # (Strawberry answers the malformed message)
    documents: Documents | None = getattr(handler.view, "documents", None)
    if documents is None:
        return payload
    try:
        found = await documents.document_of(payload.get("query"), payload.get("extensions"))
    except Exception as exc:
        if not unavailable(exc):
            raise
        return Refusal(CATALOG[20503][0], 20503, 503)
    if isinstance(found, Refusal):
        return found
    if found is None:
        return payload
    await documents.register(handler.view.core_schema, found)
    return {**payload, "query": found.text}


class OpenSockets:
    """The websockets this process has open: to ping them (one task for all), and to close
    them all on shutdown."""

    def __init__(self) -> None:
        self._open: dict[WebSocket, Outbox | None] = {}
        self._pings: dict[Outbox, Frame] = {}
        self._pinger: asyncio.Task[None] | None = None
        self._interval = 20.0
        self._finished: asyncio.Future[None] | None = None
        self.closing = False

    def __len__(self) -> int:
        return len(self._open)

    def add(self, ws: WebSocket) -> None:
        self._open[ws] = None

    def attach(self, ws: WebSocket, outbox: Outbox) -> None:
        if ws in self._open:
            self._open[ws] = outbox

    def discard(self, ws: WebSocket) -> None:
        outbox = self._open.pop(ws, None)
        if outbox is not None:
            self._pings.pop(outbox, None)

    def finished(self) -> asyncio.Future[None]:
        """A future that is already done (one for the process), standing in for the task of
        an operation the fan-out serves."""
        if self._finished is None:
            self._finished = asyncio.get_running_loop().create_future()
            self._finished.set_result(None)
        return self._finished

    def keep_alive(self, outbox: Outbox, frame: Frame, interval: float) -> None:
        """Send `frame` to `outbox` every `interval` seconds until its socket closes."""
        self._pings[outbox] = frame
        self._interval = interval
        if self._pinger is None and not self.closing:
            self._pinger = asyncio.create_task(self._ping(), name="portico-ws-keepalive")

    async def _ping(self) -> None:
        """Runs from the first socket until close_all (one task for the process's life)."""
        try:
            while True:
                await asyncio.sleep(self._interval)
                for outbox, frame in tuple(self._pings.items()):
                    if outbox.closed:
                        self._pings.pop(outbox, None)
                    else:
                        outbox.put(frame)
        finally:
            self._pinger = None

    async def close_all(self, code: int = SERVICE_RESTART, reason: str = "Server restart") -> int:
        """Close every open socket (new ones are refused from now on); how many were open."""
        self.closing = True
        if self._pinger is not None:
            self._pinger.cancel()
        sockets = list(self._open.items())
        for ws, outbox in sockets:
            if outbox is not None and outbox.wire is not None:
                outbox.close_now(code, reason)  # without waiting for a client that reads nothing
            elif ws.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await ws.close(code=code, reason=reason)
        return len(sockets)


class LiveView(Protocol):
    """What the handlers need of the view (app/graphql/app.GraphQLView)."""

    sockets: OpenSockets
    fanout: FanOut | None  # None: every event executes per socket (tests compare the two)
    max_queued_messages: int

    def encode_json_string(self, data: object) -> str: ...


class SocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter, with every message through the socket's outbox, and quiet once the
    socket is closed (by us at shutdown or on overflow, or by the peer): a late message of a
    running operation is dropped instead of raising."""

    def __init__(self, view: Any, request: WebSocket, response: WebSocket) -> None:
        super().__init__(view, request, response)
        live: LiveView = view
        self.live = live
        self.outbox = Outbox(response, live.max_queued_messages)
        self.max_message_bytes: int = view.max_body_bytes
        live.sockets.attach(response, self.outbox)

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        """Strawberry's, with the cap and the bounded decoder."""
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    raise NonTextMessageReceived
                cap = self.max_message_bytes
                if len(text) > cap or (
                    len(text) * 4 > cap and len(text.encode("utf-8", "surrogatepass")) > cap
                ):
                    await self.close(MESSAGE_TOO_BIG, "Message too big")
                    return
                try:
                    yield decode_json(text)
                except MalformedJson:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from None
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.outbox.closed or WebSocketState.DISCONNECTED in (
            self.ws.application_state,
            self.ws.client_state,
        ):
            raise WebSocketDisconnected
        self.outbox.put(Frame(self.live.encode_json_string(message)))

    async def close(self, code: int, reason: str) -> None:
        if self.outbox.wire is not None or self.outbox.queued:
            self.outbox.close(code, reason)  # after what is queued, without waiting for it
        elif self.ws.application_state != WebSocketState.DISCONNECTED:
            self.outbox.closed = True
            with contextlib.suppress(RuntimeError):
                await super().close(code, reason)

    def live_operation(self, kind: str, op_id: str, variables: Any) -> LiveOperation | None:
        if self.live.fanout is None:
            return None
        return LiveOperation(
            kind,
            op_id,
            variables if isinstance(variables, dict) else None,
            self.outbox,
            self.live.fanout,
        )


def _keepalive_interval(handler: Any) -> float:
    return float(handler.context.services.settings.ws_keepalive_interval)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, plus a server `ping` every keep-alive interval once acknowledged,
    and operations the live fan-out serves once they have caught up (no task of their own
    from then on: `run_operation` returns without `complete`, and the operation stays
    registered until the client completes it or the socket closes)."""

    websocket: SocketAdapter

    _expiry: asyncio.Task[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lives: dict[str, LiveOperation] = {}

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            stop_expiry(self)

    async def handle_connection_init(self, message: Any) -> None:
        if message.get("payload") is None:  # the protocol allows null: credentials may be
            message = {**message, "payload": {}}  # on the upgrade request
        await super().handle_connection_init(message)
        self.connection_init_timeout_task = None  # done (cancelled): not kept per socket
        if self.connection_acknowledged:
            self._expiry = close_at_expiry(self)
            adapter = self.websocket
            adapter.live.sockets.keep_alive(adapter.outbox, PING, _keepalive_interval(self))

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged:
            payload = await persisted_payload(self, message.get("payload"))
            if isinstance(payload, Refusal):
                error: Any = {"id": message["id"], "type": "error", "payload": [payload.error]}
                await self.send_message(error)
                return
            message = {**message, "payload": payload}
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Strawberry's, except for an operation the fan-out took over."""
        live = self.websocket.live_operation(NEXT, operation.id, operation.variables)
        LIVE.set(live)
        if live is not None:
            self.lives[operation.id] = live
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            if live is not None and live.member is not None:
                # Live now; cleanup_operation ends it. This task ends here: the operation keeps
                # a finished future instead, not the task with its coroutine and context.
                operation.task = self.websocket.live.sockets.finished()  # type: ignore[assignment]
                return
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            if live is None or live.member is None:
                self.lives.pop(operation.id, None)

    async def cleanup_operation(self, operation_id: str) -> None:
        live = self.lives.pop(operation_id, None)
        if live is not None:
            live.end()
        await super().cleanup_operation(operation_id)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (legacy), plus a connection_init timeout and a 4403 close on refusal
    (Strawberry's own closes with 1011, which clients read as a server fault and retry)."""

    websocket: SocketAdapter

    _timer: asyncio.Task[None] | None = None
    _expiry: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        self._timer = asyncio.create_task(self._init_timeout(), name="portico-ws-init-timeout")
        try:
            await super().handle()
        finally:
            self._stop_timer()
            stop_expiry(self)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _init_timeout(self) -> None:
        await asyncio.sleep(self.context.services.settings.ws_connection_init_timeout)
        if not self.connection_acknowledged:
            await self.websocket.close(INIT_TIMEOUT, "Connection initialisation timeout")

    async def handle_start(self, message: Any) -> None:
        if self.connection_acknowledged:
            payload = await persisted_payload(self, message.get("payload"))
            if isinstance(payload, Refusal):
                error: Any = {"type": "error", "id": message["id"], "payload": payload.error}
                await self.send_message(error)
                return
            message = {**message, "payload": payload}
        await super().handle_start(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_acknowledged:
            return  # a second connection_init changes nothing
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            payload = {}
        self.context.connection_params = payload
        if not await connect(self.context):
            await self.send_message({"type": "connection_error", "payload": rejection_payload()})
            await self.websocket.close(FORBIDDEN, "Forbidden")
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self._stop_timer()
        self._expiry = close_at_expiry(self)
        if self.keep_alive:
            adapter = self.websocket
            adapter.outbox.put(KEEP_ALIVE)  # at once, then every interval
            adapter.live.sockets.keep_alive(adapter.outbox, KEEP_ALIVE, _keepalive_interval(self))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lives: dict[str, LiveOperation] = {}

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """Strawberry's, except for an operation the fan-out took over: that one stays in
        `tasks` (it counts towards the cap) until `stop` or the socket's end."""
        live = self.websocket.live_operation(DATA, operation_id, variables)
        LIVE.set(live)
        if live is not None:
            self.lives[operation_id] = live
        handed_over = False
        try:
            result_source = await self.schema.subscribe(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = result_source
            is_first_result = True
            async for result in result_source:
                if is_first_result and isinstance(result, PreExecutionError):
                    assert result.errors
                    await self.send_message(
                        {"type": "error", "id": operation_id, "payload": result.errors[0].formatted}
                    )
                    return
                await self.send_data_message(result, operation_id)
                is_first_result = False
            handed_over = live is not None and live.member is not None
            if handed_over:  # it still counts towards the cap, without keeping this task
                self.tasks[operation_id] = self.websocket.live.sockets.finished()  # type: ignore[assignment]
            else:
                await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            if not handed_over:
                self.tasks.pop(operation_id, None)
                self.lives.pop(operation_id, None)

    async def cleanup_operation(self, operation_id: str) -> None:
        live = self.lives.pop(operation_id, None)
        if live is not None and live.member is not None:
            live.end()
            self.tasks.pop(operation_id, None)
            with contextlib.suppress(WebSocketDisconnected):
                await self.send_message({"type": "complete", "id": operation_id})
            return
        await super().cleanup_operation(operation_id)
