"""The work queue: every durable background job (carrier steps and deliveries) goes through here.

A queue is a table whose rows are work items: `state` (pending, then done or dead under the
table's names), a due time, `attempts`, and a lease (`lease_until`, `lease_token`). Two tables
use it, with the same mechanics:

- `JOBS` (`jobs`): the carrier steps the scheduler runs (app/runners/scheduler.py);
- `DELIVERIES` (`deliveries`): status callbacks and email (app/runners/worker.py).

The mechanics, the same for both:
- **claim**: due rows nobody holds, oldest due first, leased to a fresh token, in one short
  transaction; on PostgreSQL read `FOR UPDATE SKIP LOCKED`, so concurrent claimers (replicas)
  take different rows without waiting; SQLite has one writer, so the transaction is the lock.
- **fence**: every later write to a claimed row (renew, retry, finish) matches its
  `lease_token`; a runner whose lease ran out and was taken over changes nothing (`Lost`).
- **retry policy**: `RetryPolicy(schedule, jitter)` says when to try again after an attempt
  fails; after the last delay the item is dead (kept, never dropped).
- **wake-up**: a transaction that writes work marks it (`written`); after the commit the
  process's runner of that queue wakes at once (`Services.wakeups`). Runners also wake when the
  bus announces new events (other replicas' writes) and every poll interval.

Everything here runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.store.bus import Bus
from app.store.tables import Delivery, Job

R = TypeVar("R", Job, Delivery)

PENDING = "pending"
JITTER = 0.2
# A generator of our own: jitter never touches (or depends on) the global `random` state.
_random = random.SystemRandom()


class Lost(Exception):
    """The item is no longer ours (finished, or claimed again after our lease ran out)."""


def new_token() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class RetryPolicy:
    """Seconds before each retry (the n-th failed attempt waits `schedule[n-1]`, jittered by
    +-`jitter` so retries of many items spread out); past the last one the item is dead."""

    schedule: tuple[float, ...]
    jitter: float = JITTER

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def next_try(
        self, attempts_done: int, now: datetime, rand: Callable[[], float] = _random.random
    ) -> datetime | None:
        """When to try again after `attempts_done` attempts failed; None when it is dead."""
        if attempts_done > len(self.schedule):
            return None
        delay = self.schedule[attempts_done - 1] * (1 - self.jitter + 2 * self.jitter * rand())
        return now + timedelta(seconds=delay)


def written(session: AsyncSession, queue: Queue[Any]) -> None:
    """Mark that this transaction wrote work for `queue` (its runner wakes after commit)."""
    session.info.setdefault("work_written", set()).add(queue.name)


async def wait(local: Sequence[asyncio.Event], bus: Bus, seen: int, timeout: float) -> int:
    """A runner's sleep: until one of the `local` events is set (this process wrote work, a
    slot came free), the bus announces events newer than `seen` (any replica), or `timeout`
    seconds pass. Returns the newest event id the bus announced (`seen` if it did not)."""
    bus_wait = asyncio.create_task(bus.wait_beyond(seen, timeout))
    woken = [asyncio.create_task(e.wait()) for e in local]
    tasks = {bus_wait, *woken}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if bus_wait.done() and not bus_wait.cancelled() and bus_wait.exception() is None:
        return max(seen, bus_wait.result())
    return seen


@dataclass(frozen=True)
class Queue(Generic[R]):
    name: str
    model: type[R]
    due: str  # the column that says when an item is due
    done: str  # the state of an item finished for good
    dead: str  # the state of an item that used up its attempts (or was refused for good)

    def _due(self) -> Any:
        return getattr(self.model, self.due)

    def _claimable(self, now: datetime) -> list[Any]:
        lease: Any = self.model.lease_until
        return [
            col(self.model.state) == PENDING,
            self._due() <= now,
            lease.is_(None) | (lease <= now),
        ]

    async def claim(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        token: str,
        lease: timedelta,
        where: Sequence[Any] = (),
    ) -> list[R]:
        """Lease up to `limit` due items to `token` (the caller commits); `where`: further
        conditions an item must meet (the delivery worker skips receivers it keeps busy)."""
        if limit <= 0:
            return []
        # One statement: the due rows, locked (skipping those another claimer holds), leased
        # and returned; SQLite's single writer needs no lock (FOR UPDATE is left out there).
        ids = (
            select(col(self.model.id))
            .where(*self._claimable(now), *where)
            .order_by(self._due(), col(self.model.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        stmt = (
            update(self.model)
            .where(col(self.model.id).in_(ids))
            .values(lease_until=now + lease, lease_token=token)
            .returning(self.model)
            .execution_options(synchronize_session=False)
        )
        rows = list((await session.scalars(stmt)).all())
        rows.sort(key=lambda row: (getattr(row, self.due), row.id))  # RETURNING has no order
        return rows

    async def next_due(self, session: AsyncSession) -> datetime | None:
        """When the earliest pending item can be claimed (due, and its lease, if any, ran out)."""
        due = self._due()
        lease: Any = self.model.lease_until
        at = case((lease.is_not(None) & (lease > due), lease), else_=due)
        stmt = select(func.min(at)).where(col(self.model.state) == PENDING)
        when: datetime | None = (await session.execute(stmt)).scalar_one_or_none()
        return when

    async def backlog(self, session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
        """How many pending items are due now, and the due time of the oldest."""
        due = self._due()
        stmt = select(func.count(), func.min(due)).where(
            col(self.model.state) == PENDING, due <= now
        )
        count, oldest = (await session.execute(stmt)).one()
        return int(count), oldest

    async def backlog_by(
        self, session: AsyncSession, now: datetime, column: str
    ) -> dict[str, tuple[int, datetime | None]]:
        """`backlog`, per value of `column` (a delivery's channel)."""
        due = self._due()
        key = getattr(self.model, column)
        stmt = (
            select(key, func.count(), func.min(due))
            .where(col(self.model.state) == PENDING, due <= now)
            .group_by(key)
        )
        rows = (await session.execute(stmt)).all()
        return {str(k): (int(n), oldest) for k, n, oldest in rows}

    async def dead_by(self, session: AsyncSession, column: str | None = None) -> dict[str, int]:
        """How many items are dead (kept after their last attempt), per value of `column`
        (all under "" without one)."""
        state = col(self.model.state) == self.dead
        if column is None:
            stmt: Any = select(func.count()).where(state)
            return {"": int((await session.execute(stmt)).scalar_one())}
        key = getattr(self.model, column)
        stmt = select(key, func.count()).where(state).group_by(key)
        return {str(k): int(n) for k, n in (await session.execute(stmt)).all()}

    def _fenced(self, row: R, token: str) -> Any:
        return update(self.model).where(
            col(self.model.id) == row.id,
            col(self.model.state) == PENDING,
            col(self.model.lease_token) == token,
        )

    async def renew(
        self, session: AsyncSession, row: R, token: str, now: datetime, lease: timedelta
    ) -> bool:
        """Extend our lease; False when the item is no longer ours."""
        stmt = self._fenced(row, token).values(lease_until=now + lease)
        result: Any = await session.execute(stmt.execution_options(synchronize_session=False))
        return bool(result.rowcount)

    async def settle(
        self,
        session: AsyncSession,
        row: R,
        token: str,
        state: str,
        *,
        due: datetime | None = None,
        fenced: bool = True,
        **values: Any,
    ) -> bool:
        """Record one attempt of a claimed item: `attempts` + 1, the new `state` (PENDING with
        a new `due` time for a retry), the lease released, plus any of the table's own
        `values`. Fenced on our token; `fenced=False` lets a success land even after the lease
        was lost (the item only goes pending -> done, so nothing is done twice after it).
        False when nothing matched."""
        stmt = (
            self._fenced(row, token)
            if fenced
            else update(self.model).where(
                col(self.model.id) == row.id, col(self.model.state) == PENDING
            )
        )
        values = {
            "attempts": self.model.attempts + 1,
            "state": state,
            "lease_until": None,
            "lease_token": None,
            **values,
        }
        if due is not None:
            values[self.due] = due
        result: Any = await session.execute(
            stmt.values(**values).execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def settle_many(
        self, session: AsyncSession, ids: Collection[int], state: str, **values: Any
    ) -> int:
        """`settle` for many items at once, unfenced (so for successes only: pending -> done
        lands even after a lease was lost); how many moved."""
        if not ids:
            return 0
        stmt = (
            update(self.model)
            .where(col(self.model.id).in_(list(ids)), col(self.model.state) == PENDING)
            .values(
                attempts=self.model.attempts + 1,
                state=state,
                lease_until=None,
                lease_token=None,
                **values,
            )
        )
        result: Any = await session.execute(stmt.execution_options(synchronize_session=False))
        return int(result.rowcount)

    async def settle_or_lose(
        self, session: AsyncSession, row: R, token: str, state: str, **values: Any
    ) -> None:
        """`settle`, fenced, raising Lost (roll back the caller's change) when not ours."""
        if not await self.settle(session, row, token, state, **values):
            raise Lost(row.id)


JOBS: Queue[Job] = Queue("jobs", Job, due="run_at", done="done", dead="failed")
DELIVERIES: Queue[Delivery] = Queue(
    "deliveries", Delivery, due="next_attempt_at", done="delivered", dead="failed"
)
QUEUES: Sequence[Queue[Any]] = (JOBS, DELIVERIES)


def deliveries_except(prefixes: Collection[str] = (), channels: Collection[str] = ()) -> list[Any]:
    """Claim conditions (`DELIVERIES.claim(where=...)`) that leave the deliveries whose target
    starts with one of `prefixes` (e.g. `https://hooks.example.com`), and those of these
    channels, to a later claim."""
    where: list[Any] = [
        ~col(Delivery.target).startswith(prefix, autoescape=True) for prefix in sorted(prefixes)
    ]
    if channels:
        where.append(col(Delivery.channel).not_in(sorted(channels)))
    return where


# --- attempts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one attempt went (a send, a carrier call)."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    final: bool = False  # no retry, whatever the schedule says


@dataclass(frozen=True)
class Step:
    """What an outcome means for its item: done, due again at `next_attempt_at`, or dead."""

    state: str
    next_attempt_at: datetime | None = None
    note: str | None = None  # added to the attempt's error when the item is given up


def next_step(
    outcome: Outcome,
    attempts_done: int,
    policy: RetryPolicy,
    now: datetime,
    rand: Callable[[], float] = _random.random,
    *,
    queue: Queue[Any] = DELIVERIES,
) -> Step:
    """`attempts_done` counts the attempt that just ended."""
    if outcome.ok:
        return Step(queue.done)
    if outcome.final:
        return Step(queue.dead, note="given up")
    due = policy.next_try(attempts_done, now, rand)
    if due is None:
        return Step(queue.dead, note=f"given up after {attempts_done} attempts")
    return Step(PENDING, due)
