"""The bus only says "new events exist up to id N" (ARCHITECTURE.md §1).

`MemoryBus` serves one process (the embedded SQLite setup). A listener that wakes up re-reads
the event log from its own last id, so a missed or coalesced wake-up loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

# credentials_changed("*"): forget every cached credential (the bus may have missed some).
EVERY_CREDENTIAL = "*"


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel a long-lived loop and wait for its end, cancelling again if a cancellation got
    lost inside it (as Python 3.11's `asyncio.wait_for` loses one that arrives as its wait
    ends): a process or a test that stops it must never wait forever."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1)
    with contextlib.suppress(asyncio.CancelledError):
        await task


class Bus(Protocol):
    last_id: int
    waiting: int
    # Whether other processes' changes reach this bus (PostgreSQL: every replica, the CLI
    # included); the in-memory bus hears its own process only.
    cross_process: bool

    @property
    def listening(self) -> bool:
        """Whether wake-ups from other processes can arrive (readiness, /readyz)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event_id: int) -> None:
        """Called after the commit of a transaction whose last event has this id."""

    async def wait_beyond(self, seen_id: int, timeout: float | None = None) -> int:
        """Wait until an event newer than `seen_id` is known; return the newest known id
        (or `seen_id` on timeout)."""

    def on_credentials_changed(self, listener: Callable[[str], None]) -> None:
        """Call `listener(sid)` when a credential of `sid` changed here or on another replica
        (a revoked API key; an account whose subaccounts changed): caches drop it."""

    def credentials_changed(self, sid: str) -> None: ...


class MemoryBus:
    cross_process = False

    def __init__(self) -> None:
        self.last_id = 0
        self.waiting = 0  # callers inside wait_beyond (the hub: one per process)
        self._changed = asyncio.Condition()
        self._credential_listeners: list[Callable[[str], None]] = []

    @property
    def listening(self) -> bool:
        return True  # one process: every publisher is in it

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def publish(self, event_id: int) -> None:
        async with self._changed:
            if event_id > self.last_id:
                self.last_id = event_id
                self._changed.notify_all()

    async def wait_beyond(self, seen_id: int, timeout: float | None = None) -> int:
        self.waiting += 1
        try:
            async with self._changed:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation
                # that arrives as the wait ends (the hub could then never be stopped).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._changed.wait_for(lambda: self.last_id > seen_id)
                return max(self.last_id, seen_id)
        finally:
            self.waiting -= 1

    def on_credentials_changed(self, listener: Callable[[str], None]) -> None:
        self._credential_listeners.append(listener)

    def credentials_changed(self, sid: str) -> None:
        for listener in self._credential_listeners:
            listener(sid)
