"""The per-account budget of points per clock hour (PORTICO_GRAPHQL_POINTS_PER_HOUR), shared
by every replica through the database without a write per request.

A GraphQL operation costs ceil(estimated nodes / 100), at least 1 (app/graphql/cost.py); a
REST request costs 1. Each replica keeps, per account and window, what it knows the shared
row held when it last wrote (`known_used`) and what it spent since (`unsettled`):

- Far from the limit, a request's points are spent locally, no SQL, until `unsettled` would
  reach CHUNK (1/50 of the limit): then they are written in one statement
  (app/store/rate_limits.settle), which also tells this replica what the others used.
- Near the limit (less than a CHUNK left as far as this replica knows), every spend is
  written, and the database decides: the upsert adds the request's points only if the row,
  as it is, still has room. So two replicas never both spend the last points; at most the
  points a replica spent unwritten (fewer than a CHUNK) can pass the limit.
- An exhausted window answers "no" locally until it ends (it can only reset).
Windows are clock hours (UTC): `reset_at` is the next full hour.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from app.services.context import Services
from app.store import rate_limits

WINDOW_SECONDS = 3600
NODES_PER_POINT = 100


def points_for(nodes: int) -> int:
    return max(1, math.ceil(nodes / NODES_PER_POINT))


@dataclass(frozen=True)
class Spent:
    ok: bool
    limit: int
    cost: int
    remaining: int
    reset_at: datetime

    def retry_after(self, now: datetime) -> int:
        return max(1, math.ceil((self.reset_at - now).total_seconds()))


@dataclass
class _Window:
    start: int
    known_used: int = 0
    unsettled: int = 0
    exhausted: bool = False


class Budget:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.limit = svc.settings.graphql_points_per_hour
        self.chunk = max(1, self.limit // 50)
        self._windows: dict[str, _Window] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._forgotten = 0

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def _now(self) -> tuple[datetime, int]:
        now = self.svc.clock()
        start = int(now.timestamp()) // WINDOW_SECONDS * WINDOW_SECONDS
        return now, start

    def _spent(self, ok: bool, cost: int, w: _Window) -> Spent:
        remaining = max(0, self.limit - w.known_used - w.unsettled)
        reset = datetime.fromtimestamp(w.start + WINDOW_SECONDS, UTC)
        return Spent(ok, self.limit, cost, remaining, reset)

    def _window(self, account: str, start: int) -> _Window:
        w = self._windows.get(account)
        if w is None or w.start != start:
            w = self._windows[account] = _Window(start)
        return w

    def peek(self, account: str) -> Spent:
        """What is left, as this replica knows it, without spending."""
        _, start = self._now()
        return self._spent(True, 0, self._window(account, start))

    async def spend(self, account: str, cost: int) -> Spent:
        _, start = self._now()
        w = self._window(account, start)
        if not self.enabled:
            return Spent(True, 0, cost, 0, datetime.fromtimestamp(start + WINDOW_SECONDS, UTC))
        if w.exhausted:
            return self._spent(False, cost, w)
        left = self.limit - w.known_used - w.unsettled
        if w.unsettled + cost < self.chunk and left - cost >= self.chunk:
            w.unsettled += cost  # the common case: no SQL
            return self._spent(True, cost, w)
        lock = self._locks.setdefault(account, asyncio.Lock())
        async with lock:
            w = self._window(account, start)
            spent = w.unsettled
            settled = await rate_limits.settle(self.svc.db, account, start, self.limit, spent, cost)
            w.unsettled -= spent  # (what was spent while we waited stays unsettled)
            w.known_used = settled.used
            if not settled.ok:
                w.exhausted = w.known_used + w.unsettled + 1 > self.limit
            await self._forget_old(start)
            return self._spent(settled.ok, cost, w)

    async def _forget_old(self, start: int) -> None:
        """Once per window and process: rows of windows over a day old are dropped, and this
        replica's state of other windows too."""
        if self._forgotten == start:
            return
        self._forgotten = start
        self._windows = {a: w for a, w in self._windows.items() if w.start == start}
        self._locks = {a: lock for a, lock in self._locks.items() if a in self._windows}
        await rate_limits.forget_before(self.svc.db, start - 24 * WINDOW_SECONDS)


def budget_of(svc: Services) -> Budget:
    """The process's budget of these services (one per Services, shared by every transport)."""
    found = svc.__dict__.get("_budget")
    if not isinstance(found, Budget):
        found = svc.__dict__["_budget"] = Budget(svc)
    return found
