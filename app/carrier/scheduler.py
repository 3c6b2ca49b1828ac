"""The scheduler: claims due carrier jobs and runs each in its own transaction.

One loop per process (an asyncio task started by the server's lifespan, or standalone:
`python -m app.carrier.scheduler`). Claiming takes due jobs nobody holds and leases them
(`lease_until`, `attempts` + 1) in one short transaction: on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so replicas never wait on each other; on SQLite the single writer
serialises claims. A job is finished in the same transaction as its change, fenced on
`attempts`, so a runner whose lease ran out and was taken over changes nothing (LostJob), and
every step happens once however many replicas run.

An idle loop sleeps until the next job falls due, at most `scheduler_poll_interval`; a commit in
this process that wrote jobs (`Services.jobs_written`) wakes it at once. Jobs written by another
replica are picked up within one poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import timedelta

from app.carrier import jobs
from app.carrier.jobs import LostJob
from app.porting.errors import PortingError
from app.services.carrier import run_job
from app.services.context import Services
from app.store import queries
from app.store.tables import Job

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 1.0


class Scheduler:
    def __init__(
        self,
        svc: Services,
        *,
        poll_seconds: float | None = None,
        lease_seconds: float | None = None,
        batch_size: int | None = None,
    ) -> None:
        settings = svc.settings
        self.svc = svc
        self.poll = poll_seconds or settings.scheduler_poll_interval
        self.lease = timedelta(seconds=lease_seconds or settings.scheduler_lease_seconds)
        self.batch = batch_size or settings.scheduler_batch_size
        self.outcomes: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    # --- one round ---------------------------------------------------------------------

    async def claim(self) -> list[Job]:
        now = self.svc.clock()
        async with self.svc.db.write() as tx:
            claimed = list(await queries.claimable_jobs(tx, now, self.batch))
            for job in claimed:
                job.attempts += 1
                job.lease_until = now + self.lease
        return claimed

    async def run_due(self) -> int:
        """Claim one batch of due jobs and run them one by one; the number claimed."""
        claimed = await self.claim()
        for job in claimed:
            await self.run(job)
        return len(claimed)

    async def run(self, job: Job) -> str:
        try:
            outcome = await run_job(self.svc, job)
        except LostJob:
            outcome = "lost"
        except PortingError as exc:
            outcome = await self._refused(job, exc)
        except Exception as exc:
            log.exception("carrier job %s (%s, %s) failed", job.id, job.kind, job.port_order_sid)
            outcome = await self._retry_or_fail(job, f"{type(exc).__name__}: {exc}")
        self.outcomes[outcome] += 1
        log.debug("carrier job %s %s %s: %s", job.id, job.kind, job.port_order_sid, outcome)
        return outcome

    async def _refused(self, job: Job, exc: PortingError) -> str:
        if exc.code == 20409:  # someone changed the order meanwhile: look again soon
            return await self._retry_or_fail(job, str(exc), timedelta(0))
        log.warning("carrier job %s for %s refused: %s", job.id, job.port_order_sid, exc)
        return await self._settle(job, jobs.FAILED, str(exc))

    async def _retry_or_fail(self, job: Job, error: str, delay: timedelta | None = None) -> str:
        if job.attempts >= MAX_ATTEMPTS:
            return await self._settle(job, jobs.FAILED, error)
        run_at = self.svc.clock() + (
            delay if delay is not None else jobs.backoff(job.attempts, RETRY_BASE_SECONDS)
        )
        try:
            async with self.svc.transaction() as tx:
                await jobs.retry(tx, job, run_at, error)
        except LostJob:
            return "lost"
        return "retry"

    async def _settle(self, job: Job, state: str, note: str) -> str:
        try:
            async with self.svc.transaction() as tx:
                await jobs.finish(tx, job, state, note)
        except LostJob:
            return "lost"
        return state

    # --- the loop ------------------------------------------------------------------------

    async def _next_due_in(self) -> float | None:
        """Seconds until the next job can be claimed (<= 0: now); None when there is none."""
        async with self.svc.db.read() as s:
            due = await queries.next_job_due(s)
        return None if due is None else (due - self.svc.clock()).total_seconds()

    async def run_forever(self) -> None:
        wake = self.svc.jobs_written
        while True:
            wake.clear()
            try:
                due_in = await self._next_due_in()
                if due_in is not None and due_in <= 0 and await self.run_due():
                    continue
            except Exception:
                log.exception("scheduler round failed")
                due_in = None
            timeout = self.poll if due_in is None or due_in <= 0 else min(self.poll, due_in)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run_forever(), name="portico-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def main() -> None:
    """Run the scheduler alone (a worker process next to servers started with
    PORTICO_SCHEDULER_ENABLED=false, or with them: claims never collide)."""
    from app.config import Settings

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper())
    svc = Services.from_settings(settings)
    try:
        await Scheduler(svc).run_forever()
    finally:
        await svc.close()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
