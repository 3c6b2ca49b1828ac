"""Websocket subscribers for the subscriptions case, in several OS processes.

The subscribers must not be what the case measures. Each client process runs its share of the
sockets on uvloop with a minimal websocket client written on `asyncio.Protocol`: it speaks
graphql-transport-ws (or legacy graphql-ws) by hand, answers pings, and on every data chunk
records only the time and the raw bytes; frames are parsed as they come (a header or two per
chunk), JSON only after the measurement. So a delivered message costs a client a few
microseconds, where a full client library (websockets + json per message) cost tens, all in
one process that shared the machine's two cores with the server.

The parent talks to each process over a pipe: `open` (plans for its share of the sockets),
`collect` (wait until each socket has the expected number of results, return them with the
process's CPU time), `close`. Only the standard library and uvloop are imported here (the
processes are spawned, not forked).
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import resource
import struct
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast
from urllib.parse import urlsplit

TRANSPORT_WS = "graphql-transport-ws"
LEGACY = "graphql-ws"
OPENING_AT_ONCE = 64  # per process
ZERO_MASK = b"\x00\x00\x00\x00"  # a client must mask; a zero key leaves the payload as is


@dataclass(frozen=True)
class Plan:
    """One subscriber: where, as whom, which variables."""

    url: str  # ws://host:port/path
    authorization: str
    variables: dict[str, Any]
    protocol: str = TRANSPORT_WS


@dataclass
class Received:
    """One result message a subscriber got: when (UNIX time, at the data chunk), and its JSON."""

    at: float
    payload: dict[str, Any]


def client_frame(opcode: int, data: bytes) -> bytes:
    n = len(data)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + ZERO_MASK + data


def text(message: dict[str, Any]) -> bytes:
    return client_frame(0x1, json.dumps(message).encode())


class Subscriber(asyncio.Protocol):
    def __init__(self, plan: Plan, query: str) -> None:
        self.plan = plan
        self.query = query
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshaken = False
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.results: list[tuple[float, bytes]] = []
        self.close_code: int | None = None
        self.lost = asyncio.get_running_loop().create_future()
        self.wanted = 0
        self.enough: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport = transport
        u = urlsplit(self.plan.url)
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {self.plan.protocol}\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError(f"closed before subscribing: {exc}"))
        if not self.lost.done():
            self.lost.set_result(None)
        if self.enough is not None and not self.enough.done():
            self.enough.set_result(None)

    def data_received(self, data: bytes) -> None:
        at = time.time()
        self.buffer += data
        if not self.handshaken:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.subscribed.set_exception(ConnectionError(head.decode(errors="replace")))
                return
            self.handshaken = True
            auth = {"Authorization": self.plan.authorization}
            self.send(text({"type": "connection_init", "payload": auth}))
        self._frames(at)

    def send(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _frames(self, at: float) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            n = buf[1] & 0x7F
            offset = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = int.from_bytes(buf[2:4], "big")
                offset = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = int.from_bytes(buf[2:10], "big")
                offset = 10
            if len(buf) < offset + n:
                return
            payload = bytes(buf[offset : offset + n])
            del buf[: offset + n]
            self._frame(opcode, payload, at)

    def _frame(self, opcode: int, payload: bytes, at: float) -> None:
        if opcode == 0x9:  # ping
            self.send(client_frame(0xA, payload))
        elif opcode == 0x8:  # close
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if self.transport is not None:
                self.transport.close()
        elif opcode == 0x1:
            if b'"next"' in payload or b'"data"' in payload:
                self.results.append((at, payload))
                enough = self.enough
                if enough is not None and len(self.results) >= self.wanted and not enough.done():
                    enough.set_result(None)
            elif b'"ping"' in payload:
                self.send(text({"type": "pong"}))
            elif b'"connection_ack"' in payload:
                kind = "subscribe" if self.plan.protocol == TRANSPORT_WS else "start"
                variables = self.plan.variables
                self.send(
                    text(
                        {
                            "id": "1",
                            "type": kind,
                            "payload": {"query": self.query, "variables": variables},
                        }
                    )
                )
                if not self.subscribed.done():
                    self.subscribed.set_result(None)
            elif b'"ka"' in payload:
                pass
            elif not self.subscribed.done():
                self.subscribed.set_exception(ConnectionError(payload.decode(errors="replace")))
            else:
                self.results.append((at, payload))  # an error or complete: shown to the parent

    def expect(self, n: int) -> asyncio.Future[None]:
        self.wanted = n
        self.enough = asyncio.get_running_loop().create_future()
        if len(self.results) >= n or self.lost.done():
            self.enough.set_result(None)
        return self.enough


@dataclass
class _Worker:
    conn: Connection
    subs: list[Subscriber] = field(default_factory=list)
    cpu_mark: float = 0.0

    async def open(self, plans: list[Plan], query: str) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(OPENING_AT_ONCE)

        async def one(plan: Plan) -> Subscriber:
            u = urlsplit(plan.url)
            async with gate:
                _, sub = await loop.create_connection(
                    lambda: Subscriber(plan, query), u.hostname or "127.0.0.1", u.port or 80
                )
                await asyncio.wait_for(sub.subscribed, 60)
            return sub

        self.subs = list(await asyncio.gather(*(one(p) for p in plans)))

    async def collect(self, expected: int, timeout: float) -> list[list[tuple[float, bytes]]]:
        waits = [sub.expect(expected) for sub in self.subs]
        await asyncio.wait(waits, timeout=timeout)
        return [sub.results for sub in self.subs]

    async def close(self) -> None:
        for sub in self.subs:
            if sub.transport is not None:
                sub.send(client_frame(0x8, struct.pack("!H", 1000)))
                sub.transport.close()
        if self.subs:
            await asyncio.wait([sub.lost for sub in self.subs], timeout=10)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        commands: asyncio.Queue[Any] = asyncio.Queue()

        def read() -> None:  # a thread: the pipe stays blocking for the large replies
            while True:
                try:
                    message = self.conn.recv()
                except EOFError:
                    return
                loop.call_soon_threadsafe(commands.put_nowait, message)
                if message[0] == "close":
                    return

        threading.Thread(target=read, daemon=True).start()
        while True:
            command, args = await commands.get()
            try:
                if command == "open":
                    await self.open(*args)
                    self.conn.send(("ok", len(self.subs)))
                elif command == "reset":
                    for sub in self.subs:
                        sub.results = []
                    self.cpu_mark = _cpu()
                    self.conn.send(("ok", None))
                elif command == "collect":
                    results = await self.collect(*args)
                    self.conn.send(("ok", (results, _cpu() - self.cpu_mark)))
                elif command == "close":
                    await self.close()
                    self.conn.send(("ok", None))
                    return
            except Exception as exc:  # reported to the parent, which fails the case
                self.conn.send(("error", repr(exc)))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _main(conn: Connection) -> None:
    import gc

    import uvloop

    gc.disable()  # the measured process's own collector stays out of every window
    uvloop.run(_Worker(conn).serve())


class ClientPool:
    """`processes` client processes; the subscribers of a run are dealt out round-robin."""

    def __init__(self, processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.processes = processes
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        self._counts: list[int] = []
        for _ in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_main, args=(child,), daemon=True)
            proc.start()
            self._conns.append(parent)
            self._procs.append(proc)
        self.pids = [p.pid for p in self._procs]

    def _all(self, messages: list[Any]) -> list[Any]:
        for conn, message in zip(self._conns, messages, strict=True):
            conn.send(message)
        out = []
        for conn in self._conns:
            status, value = conn.recv()
            if status != "ok":
                raise RuntimeError(f"client process failed: {value}")
            out.append(value)
        return out

    def open(self, plans: list[Plan], query: str) -> None:
        shares: list[list[Plan]] = [plans[i :: self.processes] for i in range(self.processes)]
        self._order = [list(range(i, len(plans), self.processes)) for i in range(self.processes)]
        self._counts = self._all([("open", (share, query)) for share in shares])

    def reset(self) -> None:
        self._all([("reset", None)] * self.processes)

    def collect(self, expected: int, timeout: float) -> tuple[list[list[Received]], float]:
        """Each subscriber's results in plan order, and the CPU seconds the client processes
        spent since `reset()` (receiving them)."""
        replies = self._all([("collect", (expected, timeout))] * self.processes)
        total = sum(self._counts)
        results: list[list[Received]] = [[] for _ in range(total)]
        cpu = 0.0
        for order, (per_sub, spent) in zip(self._order, replies, strict=True):
            cpu += spent
            for index, got in zip(order, per_sub, strict=True):
                results[index] = [Received(at, json.loads(raw)) for at, raw in got]
        return results, cpu

    def close(self) -> None:
        try:
            self._all([("close", None)] * self.processes)
        finally:
            for proc in self._procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.kill()
