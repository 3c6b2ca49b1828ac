"""The scheduler: claims due carrier steps (the JOBS queue, app/store/work.py) and runs each.

One loop per process (an asyncio task started by the server's lifespan, or standalone:
`python -m app.runners.scheduler`). Claiming leases due jobs nobody holds to this scheduler's
token in one short transaction (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so replicas never wait
on each other). A job is finished in the same transaction as its change, fenced on the token,
so a runner whose lease ran out and was taken over changes nothing (work.Lost), and every step
happens once however many replicas run. A step that fails unexpectedly is retried after the
delays of PORTICO_SCHEDULER_RETRY_SCHEDULE and given up (failed) after the last one.

An idle loop sleeps until the next job falls due, at most `scheduler_poll_interval`; a commit in
this process that wrote jobs wakes it at once (`Services.wakeups`), and so does the bus (new
events, from any replica). Otherwise jobs are picked up within one poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import timedelta

from app.observability import logs
from app.observability.metrics import CARRIER_STEPS
from app.porting.errors import PortingError
from app.services import carrier_steps
from app.services.context import Services
from app.store import jobs, work
from app.store.tables import Job
from app.wiring import build_services

log = logging.getLogger(__name__)


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
        self.policy = work.RetryPolicy(tuple(settings.scheduler_retries))
        self.token = work.new_token()
        self.outcomes: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    # --- one round ---------------------------------------------------------------------

    async def claim(self) -> list[Job]:
        now = self.svc.clock()
        async with self.svc.db.write() as tx:
            return await work.JOBS.claim(tx, now, self.batch, self.token, self.lease)

    async def run_due(self) -> int:
        """Claim one batch of due jobs and run them one by one; the number claimed."""
        claimed = await self.claim()
        for job in claimed:
            await self.run(job)
        return len(claimed)

    async def run(self, job: Job) -> str:
        try:
            outcome = await carrier_steps.run_job(self.svc, job, self.token)
        except work.Lost:
            outcome = "lost"
        except PortingError as exc:
            outcome = await self._refused(job, exc)
        except Exception as exc:
            log.exception("carrier job %s (%s, %s) failed", job.id, job.kind, job.port_order_sid)
            outcome = await self._retry_or_fail(job, f"{type(exc).__name__}: {exc}")
        self.outcomes[outcome] += 1
        CARRIER_STEPS.labels(outcome if outcome in ("retry", "failed", "lost") else "done").inc()
        log.debug("carrier job %s %s %s: %s", job.id, job.kind, job.port_order_sid, outcome)
        return outcome

    async def _refused(self, job: Job, exc: PortingError) -> str:
        if exc.code == 20409:  # someone changed the order meanwhile: look again soon
            return await self._retry_or_fail(job, str(exc), timedelta(0))
        log.warning("carrier job %s for %s refused: %s", job.id, job.port_order_sid, exc)
        return await self._settle(job, jobs.FAILED, str(exc))

    async def _retry_or_fail(self, job: Job, error: str, delay: timedelta | None = None) -> str:
        now = self.svc.clock()
        run_at = now + delay if delay is not None else self.policy.next_try(job.attempts + 1, now)
        if run_at is None:
            return await self._settle(job, jobs.FAILED, error)
        try:
            await self.svc.run(carrier_steps.retry, job, self.token, run_at, error)
        except work.Lost:
            return "lost"
        return "retry"

    async def _settle(self, job: Job, state: str, note: str) -> str:
        try:
            await self.svc.run(carrier_steps.finish, job, self.token, state, note)
        except work.Lost:
            return "lost"
        return state

    # --- the loop ------------------------------------------------------------------------

    async def _next_due_in(self) -> float | None:
        """Seconds until the next job can be claimed (<= 0: now); None when there is none."""
        async with self.svc.db.read() as s:
            due = await work.JOBS.next_due(s)
        return None if due is None else (due - self.svc.clock()).total_seconds()

    async def run_forever(self) -> None:
        wake = self.svc.wakeups[work.JOBS.name]
        seen = self.svc.bus.last_id
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
            seen = await work.wait([wake], self.svc.bus, seen, timeout)

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
    logs.configure(settings.log_level, settings.log_format)
    svc = build_services(settings)
    try:
        await Scheduler(svc).run_forever()
    finally:
        await svc.close()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
