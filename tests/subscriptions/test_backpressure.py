"""Back-pressure: a subscriber that stops reading never slows the others. Its socket's queue is
bounded (PORTICO_WS_MAX_QUEUED_MESSAGES); once the kernel's buffers and the transport's are
full and the bound is passed, the server closes it with 4429, while 100 other subscribers
receive every event."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.config import Settings
from app.graphql.wire import TOO_MANY_QUEUED
from app.services import port_orders
from app.services.context import Services
from app.store import queries
from tests.builders import Tenant, order_input
from tests.subscriptions.support import (
    ORDER_EVENTS,
    TRANSPORT_WS,
    WAIT,
    Live,
    Raw,
    data_of,
    raw,
    until,
)

# Serial (run alone after the parallel part of scripts/test):
# it times what a slow reader holds up.
pytestmark = pytest.mark.serial

BOUND = 5
READERS = 100
OPERATIONS = 25  # the stalled socket's, each with a large selection: buffers fill fast
FIELDS = (
    "sid accountSid number friendlyName status portType dateCreated dateUpdated loaSid "
    "isoCountry region city postalCode street companyName firstName lastName email "
    "statusUpdatesEmail billingPhoneNumber earliestActivationDate currentCarrier url "
    "ccEmails allowedActions"
)
LARGE = (
    "subscription { portOrderStatusChanged { cursor "
    + " ".join(f"o{i}: portOrder {{ ...F }}" for i in range(30))
    + " } } fragment F on PortOrder { "
    + FIELDS
    + " }"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ws_max_queued_messages": BOUND, "delivery_worker": False})


def frame(opcode: int, data: bytes) -> bytes:
    """A client frame (masked with a zero key, which leaves the payload as it is)."""
    n = len(data)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    else:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    return header + b"\0\0\0\0" + data


class Stalled:
    """A websocket client on a raw socket with a tiny receive buffer, which stops reading."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, live: Live, who: Tenant) -> Stalled:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
        sock.setblocking(False)
        port = int(live.http_url.rsplit(":", 1)[1])
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13"
                f"\r\nSec-WebSocket-Protocol: {TRANSPORT_WS}\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 101"), head
        self = cls(reader, writer)
        self.send({"type": "connection_init", "payload": {"Authorization": who.authorization}})
        assert (await self.next())[1]["type"] == "connection_ack"
        for i in range(OPERATIONS):
            self.send({"id": str(i), "type": "subscribe", "payload": {"query": LARGE}})
        return self  # and from now on it reads nothing

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(frame(0x1, json.dumps(message).encode()))

    async def next(self) -> tuple[int, Any]:
        """The next frame: (opcode, JSON text or the close code)."""
        async with asyncio.timeout(WAIT):
            head = await self.reader.readexactly(2)
            n = head[1] & 0x7F
            if n == 126:
                n = int.from_bytes(await self.reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.reader.readexactly(8), "big")
            data = await self.reader.readexactly(n)
        opcode = head[0] & 0x0F
        if opcode == 0x8:
            return opcode, int.from_bytes(data[:2], "big")
        return opcode, json.loads(data) if opcode == 0x1 else data

    async def close_code(self) -> int:
        """Read everything the server sent until its close frame: the close code."""
        while True:
            opcode, value = await self.next()
            if opcode == 0x8:
                return int(value)


@contextlib.asynccontextmanager
async def readers(live: Live, who: Tenant, n: int) -> AsyncIterator[list[Raw]]:
    async with contextlib.AsyncExitStack() as stack:
        out = []
        for _ in range(n):
            conn = await stack.enter_async_context(raw(live, TRANSPORT_WS))
            assert (await conn.init({"Authorization": who.authorization}))["type"] == (
                "connection_ack"
            )
            await conn.subscribe("1", ORDER_EVENTS, {})
            out.append(conn)
        yield out


async def test_a_stalled_reader_is_closed_past_its_bound_while_100_others_receive(
    live: Live, svc: Services, alice: Tenant
) -> None:
    async with readers(live, alice, READERS) as others:
        stalled = await Stalled.open(live, alice)
        await until(lambda: svc.hub.subscriber_count == READERS + OPERATIONS)
        sockets = live.app_sockets
        assert len(sockets) == READERS + 1

        # New orders, one at a time: every event reaches all 100 readers, promptly, while the
        # stalled socket's buffers fill up, and until the server has closed it.
        seen: list[float] = []
        for _ in range(20):
            started = time.monotonic()
            await everyone_hears_a_new_order(svc, alice, others)
            seen.append(time.monotonic() - started)
            if len(sockets) == READERS:
                break
        assert len(sockets) == READERS, "the stalled socket was never closed"
        assert max(seen) < WAIT

        # The stalled client, reading at last, finds what was buffered, then the close: 4429.
        assert await stalled.close_code() == TOO_MANY_QUEUED
        stalled.writer.close()
        await until(lambda: svc.hub.subscriber_count == READERS)

        # And the others go on.
        await everyone_hears_a_new_order(svc, alice, others)


async def everyone_hears_a_new_order(svc: Services, who: Tenant, conns: list[Raw]) -> None:
    """A new order: each of `conns` gets its events (creation and submission), up to the last."""
    order = await port_orders.create_port_order(svc, who.caller, order_input())
    async with svc.db.read() as s:
        last = str(await queries.last_event_id(s))

    async def hears(conn: Raw) -> None:
        while True:
            event = data_of(await conn.recv_data())["portOrderStatusChanged"]
            assert event["portOrderSid"] == order.sid
            if event["cursor"] == last:
                return

    await asyncio.gather(*(hears(conn) for conn in conns))
