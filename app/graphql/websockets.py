"""GraphQL over websockets: both protocols on `/graphql`, with Portico's connection hygiene.

- `graphql-transport-ws` (the `graphql-ws` npm library) and the legacy `graphql-ws`
  (subscriptions-transport-ws, Apollo's old client): Strawberry's handlers, extended here.
- Credentials: the `connection_init` payload's `Authorization` (HTTP Basic, as over HTTP), else
  the upgrade request's `Authorization` header. Wrong or missing: graphql-transport-ws closes
  with 4403; graphql-ws sends `connection_error` and closes with 4403. Nothing else is sent.
- Keep-alive: the server pings every `ws_keepalive_interval` seconds at the protocol level
  (`ping` on graphql-transport-ws, `ka` on graphql-ws) so idle sockets survive proxies and
  clients can tell a dead server; uvicorn adds websocket ping frames at the same interval.
- `connection_init` must arrive within `ws_connection_init_timeout` seconds (4408 otherwise),
  and one socket runs at most `ws_max_subscriptions` operations at once.
- Every open socket is registered in `OpenSockets`, so a shutting-down replica closes them
  with 1012 (service restart) and clients reconnect elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage

from app.graphql.context import AUTH_FAILED, Context
from app.http_auth import caller_from_authorization
from app.porting.errors import CATALOG

log = logging.getLogger(__name__)

FORBIDDEN = 4403
INIT_TIMEOUT = 4408
SERVICE_RESTART = 1012


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


class OpenSockets:
    """The websockets this process has open, to close them all on shutdown."""

    def __init__(self) -> None:
        self._open: set[WebSocket] = set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._open)

    def add(self, ws: WebSocket) -> None:
        self._open.add(ws)

    def discard(self, ws: WebSocket) -> None:
        self._open.discard(ws)

    async def close_all(self, code: int = SERVICE_RESTART, reason: str = "Server restart") -> int:
        """Close every open socket (new ones are refused from now on); how many were open."""
        self.closing = True
        sockets = list(self._open)
        for ws in sockets:
            if ws.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await ws.close(code=code, reason=reason)
        return len(sockets)


class SocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter, quiet once the socket is closed (by us at shutdown, or by the
    peer): a late message of a running operation is dropped instead of raising."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        if WebSocketState.DISCONNECTED in (self.ws.application_state, self.ws.client_state):
            raise WebSocketDisconnected
        await super().send_json(message)

    async def close(self, code: int, reason: str) -> None:
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError):
                await super().close(code, reason)


def _keepalive_interval(handler: Any) -> float:
    return float(handler.context.services.settings.ws_keepalive_interval)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, plus a server `ping` every keep-alive interval once acknowledged."""

    _pinger: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        if message.get("payload") is None:  # the protocol allows null: credentials may be
            message = {**message, "payload": {}}  # on the upgrade request
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping_forever(), name="portico-ws-ping")

    async def _ping_forever(self) -> None:
        interval = _keepalive_interval(self)
        with contextlib.suppress(WebSocketDisconnected):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self._pinger = None
        await super().shutdown()


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (legacy), plus a connection_init timeout and a 4403 close on refusal
    (Strawberry's own closes with 1011, which clients read as a server fault and retry)."""

    async def handle(self) -> None:
        timer = asyncio.create_task(self._init_timeout(), name="portico-ws-init-timeout")
        try:
            await super().handle()
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def _init_timeout(self) -> None:
        await asyncio.sleep(self.context.services.settings.ws_connection_init_timeout)
        if not self.connection_acknowledged:
            await self.websocket.close(INIT_TIMEOUT, "Connection initialisation timeout")

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
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())
