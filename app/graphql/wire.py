"""Writing to websockets: one encoded frame for many sockets, and a bounded queue per socket.

- `FrameProtocol` is uvicorn's websockets (sans-I/O) protocol, which `portico serve` uses, with
  two additions the fan-out needs (app/graphql/fanout.py). `write(frame)` writes a message at
  once when the socket takes it now (open, its transport not paused by a full buffer): as the
  frame's bytes, encoded once for all sockets (a server's frames are not masked), or, where
  compression was negotiated, encoded for this socket. `close_now(code, reason)` closes
  without waiting for the buffer to drain: the close frame goes behind what is buffered, and a
  peer that does not read it is cut off after `close_timeout` seconds. The protocol object is
  in the ASGI scope's extensions (`WIRE`), which is how a socket finds it; under another
  server there is none, and every message goes the plain ASGI way (from the outbox's task).
- `Frame`: a message's JSON text and, built once when first needed, its frame bytes.
- `Outbox`: everything one socket is sent goes through it, in order. A frame is written at once
  when the socket takes it; otherwise it waits in a queue, and one task per busy socket writes
  the queue as the socket drains. The queue holds at most `limit` messages (PORTICO_WS_MAX_
  QUEUED_MESSAGES): a client that stops reading is closed with 4429 once one more arrives, so
  it never slows the others (a write never waits) and is never buffered without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.protocol import State

log = logging.getLogger(__name__)

WIRE = "portico.wire"  # the ASGI scope extension holding the socket's FrameProtocol
TOO_MANY_QUEUED = 4429
TOO_MANY_QUEUED_REASON = "Too many queued messages: the client does not read"


class _Inbox:
    """uvicorn's receive queue, lighter than an asyncio.Queue (three deques and an Event per
    socket): one reader (the application's `receive`), a list only while messages wait."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = []
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        return item


class _Flag:
    """uvicorn's `writable` event, without asyncio.Event's deque per socket."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter
        return True


class FrameProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The scope has copied the request's headers: the parsed request is not needed again
        # (websockets' parser keeps a reference to it for the socket's life).
        event.headers.clear()
        scope = self.__dict__.get("scope")
        if scope is not None:  # accepted: the application will run with this scope
            scope["extensions"][WIRE] = self

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # The handshake's request and response are not needed again: not kept per socket.
            self.request = self.response = None  # type: ignore[assignment]

    @property
    def shares_frames(self) -> bool:
        """Frames encoded once fit this socket (no per-socket compression state)."""
        return not self.conn.extensions

    @property
    def closed(self) -> bool:
        return self.close_sent or self.disconnected or self.conn.state is not State.OPEN

    def write_frame(self, frame: bytes) -> bool:
        """Write `frame` now if the socket takes it now: open, handshake done, not paused."""
        if not self.handshake_complete or self.closed or not self.writable.is_set():
            return False
        self.transport.write(frame)
        return True

    def write_text(self, text: str) -> bool:
        """As write_frame, encoding the message for this socket (its compression)."""
        if not self.handshake_complete or self.closed or not self.writable.is_set():
            return False
        self.conn.send_text(text.encode())
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True

    def write(self, frame: Frame) -> bool:
        return self.write_frame(frame.raw) if self.shares_frames else self.write_text(frame.text)

    def close_now(self, code: int, reason: str) -> None:
        if self.closed or not self.handshake_complete:
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        # The peer's close frame ends it sooner (handle_close); a peer that reads nothing never
        # drains the buffer, so it is aborted rather than closed gracefully.
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)


class Frame:
    """A text message, encoded as a websocket frame once for all the sockets it goes to."""

    __slots__ = ("_raw", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            frame = WsFrame(Opcode.TEXT, self.text.encode())
            self._raw = frame.serialize(mask=False, extensions=[])
        return self._raw


def wire_of(ws: WebSocket) -> FrameProtocol | None:
    wire = ws.scope.get("extensions", {}).get(WIRE)
    return wire if isinstance(wire, FrameProtocol) else None


class Outbox:
    __slots__ = ("_backlog", "_closing", "_drainer", "closed", "limit", "wire", "ws")

    def __init__(self, ws: WebSocket, limit: int) -> None:
        self.ws = ws
        self.limit = limit
        self.wire = wire_of(ws)
        self.closed = False
        self._backlog: deque[Frame] | None = None  # only while the socket is behind
        self._drainer: asyncio.Task[None] | None = None
        self._closing: tuple[int, str] | None = None  # a close waiting behind the queue

    @property
    def queued(self) -> int:
        return len(self._backlog) if self._backlog else 0

    def put(self, frame: Frame) -> None:
        """Send `frame` after everything before it; never waits."""
        if self.closed or self._closing is not None:
            return
        wire = self.wire
        if wire is not None and not self._backlog:
            if wire.write(frame):
                return
            if wire.closed:
                self.closed = True
                return
        if self._backlog is None:
            self._backlog = deque()
        if len(self._backlog) >= self.limit:
            self.overflow()
            return
        self._backlog.append(frame)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name="portico-ws-outbox")

    def overflow(self) -> None:
        log.info(
            "websocket closed with %d: %d messages queued for a client that does not read",
            TOO_MANY_QUEUED,
            self.queued,
        )
        self.close_now(TOO_MANY_QUEUED, TOO_MANY_QUEUED_REASON)

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued (at once when nothing is); never waits."""
        if self.closed or self._closing is not None:
            return
        if self._backlog:
            self._closing = (code, reason)  # the drainer closes once the queue is written
        else:
            self.close_now(code, reason)

    def close_now(self, code: int, reason: str) -> None:
        """Close without waiting for the client to read what is queued (dropped)."""
        if self.closed:
            return
        self.closed = True
        self._backlog = None
        if self.wire is not None:
            self.wire.close_now(code, reason)
        else:  # another server: its close may wait until the socket drains
            asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    async def _drain(self) -> None:
        try:
            while self._backlog and not self.closed:
                frame = self._backlog[0]
                if self.wire is not None:
                    await self.wire.writable.wait()
                    if not self.wire.write(frame):
                        if self.wire.closed:
                            self.closed = True
                        continue
                else:  # another server: its own send
                    await self.ws.send_text(frame.text)
                if self._backlog:
                    self._backlog.popleft()
        except Exception:  # the socket went away: nothing more goes to it
            self.closed = True
            self._backlog = None
        finally:
            self._drainer = None
        if self._closing is not None and not self.closed:
            self.close_now(*self._closing)
