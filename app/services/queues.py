"""The work queue in view (app/store/work.py): per kind of item, how many are due now, how long
the oldest of them has waited, and how many are dead. Read by `portico queue` and by the
gauges of /metrics, from the database: every replica sees the same numbers.

Kinds: `carrier_step` (the JOBS queue), `callback` and `email` (DELIVERIES by channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.porting.notifications import CALLBACK, EMAIL
from app.services.context import Services
from app.store import queries, work

CARRIER_STEP = "carrier_step"
KINDS = (CARRIER_STEP, CALLBACK, EMAIL)


@dataclass(frozen=True)
class QueueState:
    kind: str
    backlog: int  # pending items due now (in flight included)
    oldest_due: datetime | None  # the due time of the oldest of them
    dead: int  # items given up after their last attempt (kept, never retried)
    now: datetime

    @property
    def oldest_age_seconds(self) -> float:
        """How long the oldest due item has been due (0 when none is)."""
        if self.oldest_due is None:
            return 0.0
        return max(0.0, (self.now - self.oldest_due).total_seconds())


@dataclass(frozen=True)
class Snapshot:
    queues: list[QueueState]
    newest_event_id: int


async def snapshot(svc: Services) -> Snapshot:
    now = svc.clock()
    async with svc.db.read() as s:
        steps = await work.JOBS.backlog(s, now)
        steps_dead = (await work.JOBS.dead_by(s))[""]
        deliveries = await work.DELIVERIES.backlog_by(s, now, "channel")
        dead = await work.DELIVERIES.dead_by(s, "channel")
        newest = await queries.last_event_id(s)
    states = [QueueState(CARRIER_STEP, steps[0], steps[1], steps_dead, now)]
    for channel in (CALLBACK, EMAIL):
        count, oldest = deliveries.get(channel, (0, None))
        states.append(QueueState(channel, count, oldest, dead.get(channel, 0), now))
    return Snapshot(states, newest)
