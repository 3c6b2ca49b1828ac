"""Helpers for the subscription tests: a real uvicorn on loopback (in this process, or
`portico serve` subprocesses), real websocket clients, and the documents they send."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.graphql.websockets import OpenSockets
from app.graphql.wire import FrameProtocol
from tests.builders import Tenant

WAIT = 10.0  # seconds before a missing message fails a test (never a performance assertion)
LEGACY = WebsocketsTransport.APOLLO_SUBPROTOCOL  # "graphql-ws"
TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL  # "graphql-transport-ws"
PROTOCOLS = [LEGACY, TRANSPORT_WS]
PORTICO = Path(sys.executable).parent / "portico"

ORDER_EVENTS = """
subscription Orders($sid: ID, $after: String) {
  portOrderStatusChanged(sid: $sid, after: $after) {
    cursor portOrderSid callbackType status focDate dateUpdated phoneNumberSid
    errors { code reason date }
    portOrder { sid status }
  }
}
"""
LOA_EVENTS = """
subscription Loas($sid: ID, $after: String) {
  loaStatusChanged(sid: $sid, after: $after) { cursor loaSid status dateUpdated loa { sid status } }
}
"""
CANCEL = """
mutation Cancel($sid: ID!) {
  cancelPortOrder(sid: $sid) { portOrder { status } userErrors { code message } }
}
"""
SIGN_LOA = """
mutation Sign($sid: ID!) { signLoa(sid: $sid) { loa { status } userErrors { code } } }
"""
RENAME = """
mutation Rename($sid: ID!, $name: String!) {
  updatePortOrder(sid: $sid, input: {friendlyName: $name}) { userErrors { code message } }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(condition: Callable[[], bool]) -> None:
    """Wait (at most WAIT seconds) until `condition()` holds."""
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 (the state lives in the server: polled)
            await asyncio.sleep(0.002)


@dataclass
class Live:
    """A server on loopback: its base URLs (and the uvicorn server, when in this process)."""

    http_url: str
    server: uvicorn.Server | None = None
    app: Starlette | None = None

    @property
    def app_sockets(self) -> OpenSockets:
        assert self.app is not None
        sockets: OpenSockets = self.app.state.sockets
        return sockets

    @property
    def ws_url(self) -> str:
        return self.http_url.replace("http://", "ws://") + "/graphql"

    async def graphql(self, query: str, variables: dict[str, Any], as_: Tenant) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=WAIT) as http:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": as_.authorization},
            )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return dict(body["data"])


@contextlib.asynccontextmanager
async def live_server(app: Starlette, ws: Any = None, deflate: bool = False) -> AsyncIterator[Live]:
    """uvicorn serving `app` on a loopback port, in this event loop (so a test can count the
    server's tasks and subscriptions), with `portico serve`'s websocket protocol unless `ws`
    names another (uvicorn's own: the plain ASGI path)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        log_level="warning",
        ws=ws or FrameProtocol,
        ws_per_message_deflate=deflate,  # as `portico serve` (PORTICO_WS_PER_MESSAGE_DEFLATE)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield Live(f"http://127.0.0.1:{port}", server, app)
    finally:
        server.should_exit = True
        await task
        sock.close()


def gql_client(live: Live, tenant: Tenant, protocol: str) -> Client:
    transport = WebsocketsTransport(
        url=live.ws_url,
        init_payload={"Authorization": tenant.authorization},
        subprotocols=[protocol],
    )
    return Client(transport=transport)


async def take(stream: AsyncIterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(WAIT):
        async for item in stream:
            out.append(item)
            if len(out) == n:
                break
    return out


async def subscribe_gql(
    session: Any, query: str, variables: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    async for result in session.subscribe(GraphQLRequest(query, variable_values=variables)):
        yield result


# --- raw protocol clients -------------------------------------------------------------------


@dataclass
class Raw:
    """A websocket speaking one GraphQL protocol by hand (to see every message and close)."""

    ws: ClientConnection
    protocol: str

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            return dict(json.loads(await self.ws.recv()))

    async def recv_data(self) -> dict[str, Any]:
        """The next result message, skipping keep-alives."""
        while True:
            msg = await self.recv()
            if msg["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if msg["type"] != "ka":
                return msg

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.recv_data()

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        kind = "start" if self.protocol == LEGACY else "subscribe"
        await self.send(
            {"id": op_id, "type": kind, "payload": {"query": query, "variables": variables}}
        )

    async def stop(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "stop" if self.protocol == LEGACY else "complete"})

    async def closed(self) -> tuple[int | None, list[dict[str, Any]]]:
        """Read until the server closes: the close code and the messages before it."""
        seen: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    seen.append(json.loads(await self.ws.recv()))
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), seen


@contextlib.asynccontextmanager
async def raw(
    live: Live, protocol: str, headers: dict[str, str] | None = None
) -> AsyncIterator[Raw]:
    async with connect(
        live.ws_url,
        subprotocols=[Subprotocol(protocol)],
        additional_headers=headers,
        open_timeout=WAIT,
    ) as ws:
        assert ws.subprotocol == protocol
        yield Raw(ws, protocol)


def data_of(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] in ("data", "next"), message
    return dict(message["payload"]["data"])


# --- `portico serve` subprocesses -----------------------------------------------------------


class Replica:
    """`portico serve` in a subprocess on a loopback port."""

    def __init__(self, env: dict[str, str], log: Path, log_level: str = "INFO"):
        self.port = free_port()
        self.live = Live(f"http://127.0.0.1:{self.port}")
        self.log_path = log
        self._log = log.open("w")
        full_env = {**os.environ, **env, "PORTICO_LOG_LEVEL": log_level}
        self.proc = subprocess.Popen(
            [
                str(PORTICO),
                "serve",
                "--no-migrate",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self) -> Replica:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(base_url=self.live.http_url, timeout=2) as http:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"portico serve exited:\n{self.log_path.read_text()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return self
                if time.monotonic() > deadline:
                    raise AssertionError(f"portico serve not ready:\n{self.log_path.read_text()}")
                await asyncio.sleep(0.1)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def replica_env(database_url: str, var_dir: Path, secret: str) -> dict[str, str]:
    return {
        "PORTICO_DATABASE_URL": database_url,
        "PORTICO_SECRET_KEY": secret,
        "PORTICO_VAR_DIR": str(var_dir),
    }
