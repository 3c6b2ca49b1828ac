"""Make two use cases truly overlap, on SQLite and on PostgreSQL.

`race(svc_a, svc_b, a, b)` runs `a(svc_a)` and `b(svc_b)` at once, each through its own Services
(its own engine and pool). Whichever racer gets inside its write transaction first does its
work and is then held there, before its commit, until the other racer has entered
`Services.transaction()` too (so it has done everything it does before its transaction: reads,
validation, the carrier check) and, on PostgreSQL, until the server shows it waiting for a lock
the first one holds (a row it claimed, an index entry it wrote; on SQLite the writer lock), or
it has finished (PostgreSQL writers of different rows do not wait for each other). Only then
does the first commit. No sleeps, no timing: the overlap is observed, not hoped for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from app.services.context import Services

# Sessions of this test's database blocked on a lock (a row, an index entry).
WAITING_FOR_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
GUARD = 20.0  # seconds; only to turn a bug that hangs into a failure


async def lock_waiters(svc: Services) -> int:
    async with svc.db.read() as s:
        return int((await s.execute(WAITING_FOR_LOCK)).scalar_one())


async def _until_the_other_waits_or_ends(svc: Services, ended: asyncio.Event) -> None:
    for _ in range(int(GUARD / 0.01)):
        if ended.is_set() or await lock_waiters(svc) > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the other racer neither waited for a lock nor finished")


class Overlap:
    def __init__(self) -> None:
        self.entered = {"a": asyncio.Event(), "b": asyncio.Event()}
        self.ended = {"a": asyncio.Event(), "b": asyncio.Event()}
        self.first: str | None = None
        self.held = False

    def instrument(self, svc: Services, name: str) -> None:
        real = svc.transaction
        other = "b" if name == "a" else "a"

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Any]:
            self.entered[name].set()
            try:
                async with real() as tx:
                    first = self.first is None
                    if first:
                        self.first = name
                    try:
                        yield tx
                        if first:  # done, not committed yet: hold here
                            await asyncio.wait_for(self.entered[other].wait(), GUARD)
                            if not svc.db.is_sqlite:
                                await _until_the_other_waits_or_ends(svc, self.ended[other])
                            self.held = True
                    except BaseException:
                        # PostgreSQL: our use case waited for a row the other had claimed and
                        # found it changed (its commit reaches us before its own coroutine
                        # resumes to note that it ended): they overlapped.
                        if first and self.entered[other].is_set():
                            self.held = True
                        raise
                    finally:
                        # PostgreSQL: the other may also have committed while we were open
                        # (no lock between different rows): an overlap too.
                        if first and self.ended[other].is_set():
                            self.held = True
            finally:
                self.ended[name].set()

        svc.transaction = transaction  # type: ignore[method-assign]


async def race(
    svc_a: Services,
    svc_b: Services,
    a: Callable[[Services], Awaitable[Any]],
    b: Callable[[Services], Awaitable[Any]],
) -> tuple[list[Any], Overlap]:
    """Both results (a value or the exception), in the order a, b."""
    overlap = Overlap()
    real_a, real_b = svc_a.transaction, svc_b.transaction
    overlap.instrument(svc_a, "a")
    overlap.instrument(svc_b, "b")
    try:
        results = await asyncio.gather(a(svc_a), b(svc_b), return_exceptions=True)
    finally:
        svc_a.transaction, svc_b.transaction = real_a, real_b  # type: ignore[method-assign]
    assert overlap.held, "the racers did not overlap"
    return list(results), overlap
