"""Subscription streams: one reader of the event log per process, fanned out in memory.

The hub wakes on the bus, reads the new events once (all accounts), and hands each to the
subscriptions that match it (tenant, resource type, resource SID). A subscription that asks to
replay (`after`) reads its backlog from the log first, then continues from its queue; events
seen in both are skipped by id, so the seam has no gap and no duplicate. A subscriber that falls
too far behind drops its queue and re-reads the log from its own cursor.

Listeners are the other kind of subscriber: a callback the hub calls with every matching event
as it reads it, for a fan-out that serves many sockets at once (app/graphql/fanout.py). A
subscription can hand over to one: `events(..., handover=f)` calls `f(position)` when it has
caught up (its backlog sent, its queue empty) and ends if `f` took over from that position; no
event can fall between the two, since nothing is awaited from the check to the hand-over.

`hub.reads` lets the subscriptions an event reaches share one read made for it (the order as
it is after the event, say) instead of each reading the same row again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.store import events as event_log
from app.store.bus import Bus, stop_task
from app.store.engine import Database
from app.store.tables import Event

log = logging.getLogger(__name__)
BATCH = 500
QUEUE_LIMIT = 1000
HELD_BACK_POLL = 0.02  # seconds: how soon to look again for events behind an open transaction
SHARED_READS = 1024
T = TypeVar("T")


class SharedReads:
    """Reads keyed by the event they are made for, shared by every subscription that event
    reaches: the first asks, the others await the same read. A read made for an event happens
    after that event's commit, so it is fresh for every one of them (never a state from before
    the event). The newest SHARED_READS keys are kept; a failed read is forgotten."""

    def __init__(self, size: int = SHARED_READS) -> None:
        self._size = size
        self._reads: OrderedDict[Hashable, asyncio.Future[Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._reads)

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        future = self._reads.get(key)
        if future is None:
            future = asyncio.ensure_future(read())
            future.add_done_callback(lambda f: self._settled(key, f))
            self._reads[key] = future
            while len(self._reads) > self._size:
                self._reads.popitem(last=False)
        result: T = await asyncio.shield(future)
        return result

    def _settled(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        failed = future.cancelled() or future.exception() is not None
        if failed and self._reads.get(key) is future:
            del self._reads[key]


@dataclass(eq=False)
class Filter:
    visible: frozenset[str] | None
    resource_type: str
    resource_sid: str | None
    port_request_sid: str | None = None  # only events about this Port Request (its orders)

    def matches(self, event: Event) -> bool:
        return (
            event.resource_type == self.resource_type
            and (self.resource_sid is None or event.resource_sid == self.resource_sid)
            and (self.port_request_sid is None or event.port_request_sid == self.port_request_sid)
            and (self.visible is None or event.account_sid in self.visible)
        )


@dataclass(eq=False)
class Subscription(Filter):
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


@dataclass(eq=False)
class Listener(Filter):
    """`deliver` is called with every matching event, in log order, as the hub reads it; it
    must not block. `subscribers`: how many subscriptions it serves (subscriber_count)."""

    deliver: Callable[[Event], None] = field(default=lambda event: None)
    subscribers: int = 0


class Hub:
    def __init__(self, db: Database, bus: Bus, *, idle_poll: float = 5.0):
        self._db = db
        self._bus = bus
        self._idle_poll = idle_poll
        self._subs: set[Subscription] = set()
        self._listeners: set[Listener] = set()
        self._cursor = event_log.START
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.reads = SharedReads()

    @property
    def subscriber_count(self) -> int:
        """Subscriptions served: queued ones, and those handed over to listeners."""
        return len(self._subs) + sum(listener.subscribers for listener in self._listeners)

    def listen(self, listener: Listener) -> None:
        self._listeners.add(listener)

    def unlisten(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def cursor(self) -> int:
        """The id of the last event the hub has handed to its subscriptions (it reads the log
        in transaction order, so ids behind it may still come: a lag, not a position)."""
        return self._cursor.id

    async def start(self) -> None:
        if self._task is None:
            # A context of its own: the first subscriber's request id and caller are not the
            # hub's (its log lines would carry them forever).
            self._task = asyncio.create_task(
                self._run(), name="portico-event-hub", context=contextvars.Context()
            )
            await self._ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
            self._ready.clear()

    async def _run(self) -> None:
        async with self._db.read() as s:
            self._cursor = await event_log.newest_position(s)
        while True:
            try:
                seen = self._bus.last_id  # (read first: a later wake-up is not lost)
                # waiting: events committed behind an older open transaction
                waiting = await self._dispatch_new()
                timeout = HELD_BACK_POLL if waiting else self._idle_poll
                self._ready.set()  # (from the first wait on: subscribers may join)
                await self._bus.wait_beyond(seen, timeout=timeout)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event hub: reading the log failed; retrying")
                self._ready.set()  # subscribers wait on their queues meanwhile
                await asyncio.sleep(1)

    async def _dispatch_new(self) -> bool:
        """Hand every new event to its subscriptions; True when some wait behind an older
        transaction still open (look again soon)."""
        while True:
            async with self._db.read() as s:
                rows = await event_log.read_after(s, self._cursor, BATCH)
                last = event_log.position(rows[-1]) if rows else self._cursor
                waiting = len(rows) < BATCH and await event_log.held_back(s, last)
            for event in rows:
                self._cursor = event_log.position(event)
                for sub in self._subs:
                    if sub.matches(event):
                        sub.offer(event)
                for listener in tuple(self._listeners):
                    if listener.matches(event):
                        try:
                            listener.deliver(event)
                        except Exception:
                            log.exception("event hub: a listener failed")
            if len(rows) < BATCH:
                return waiting

    async def _replay(self, sub: Subscription, cursor: event_log.Position) -> AsyncIterator[Event]:
        while True:
            async with self._db.read() as s:
                rows = await event_log.read_after(
                    s,
                    cursor,
                    BATCH,
                    visible=sub.visible,
                    resource_sid=sub.resource_sid,
                    resource_type=sub.resource_type,
                    port_request_sid=sub.port_request_sid,
                )
            for event in rows:
                yield event
                cursor = event_log.position(event)
            if len(rows) < BATCH:
                return

    async def events(
        self,
        *,
        visible: frozenset[str] | None,
        resource_type: str,
        resource_sid: str | None = None,
        after: int | None = None,
        port_request_sid: str | None = None,
        handover: Callable[[event_log.Position], bool] | None = None,
    ) -> AsyncIterator[Event]:
        """Matching events: first those after `after` (an event id, the public cursor) from the
        log (when given), then live; with `handover`, until it takes over (see the module's
        docstring)."""
        await self.start()
        sub = Subscription(visible, resource_type, resource_sid, port_request_sid=port_request_sid)
        self._subs.add(sub)
        try:
            cursor = self._cursor
            if after is not None:
                async with self._db.read() as s:
                    cursor = await event_log.position_of(s, after)
                async for event in self._replay(sub, cursor):
                    cursor = event_log.position(event)
                    yield event
            while True:
                if sub.overflowed:
                    # Too far behind: forget the queue and read the log from our own cursor.
                    sub.queue = asyncio.Queue(QUEUE_LIMIT)
                    sub.overflowed = False
                    async for event in self._replay(sub, cursor):
                        cursor = event_log.position(event)
                        yield event
                    continue
                if handover is not None and sub.queue.empty() and handover(cursor):
                    return
                event = await sub.queue.get()
                if event_log.position(event) <= cursor:
                    continue
                cursor = event_log.position(event)
                yield event
        finally:
            self._subs.discard(sub)
