"""The delivery worker: claims due deliveries (the DELIVERIES queue, app/store/work.py) and
sends them, up to N at a time.

It runs inside `portico serve` (app/main.py lifespan, unless PORTICO_DELIVERY_WORKER=false)
and alone as `portico worker`; any number of them may share one PostgreSQL database (claims
use FOR UPDATE SKIP LOCKED and a lease). It wakes up when this process commits deliveries,
when the bus announces new events (any replica), when a send finishes (a slot is free), and
every PORTICO_DELIVERY_POLL_SECONDS otherwise (retries coming due).

The send happens outside any transaction; `finish_many` records each attempt and moves the
delivery. A worker that dies keeps nothing: its lease expires and another worker claims the
row again. A success is final even if the lease was lost meanwhile (pending -> delivered only),
so nothing is sent again after one; a failure only reschedules while the lease is still ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

from app.observability.metrics import DELIVERY_ATTEMPTS
from app.porting.notifications import CALLBACK
from app.services import callbacks, mails
from app.services.context import Services
from app.store import work
from app.store.tables import Delivery, DeliveryAttempt

Q = work.DELIVERIES


def _lease(svc: Services) -> timedelta:
    return timedelta(seconds=svc.settings.delivery_lease_seconds)


def policy(svc: Services) -> work.RetryPolicy:
    return work.RetryPolicy(tuple(svc.settings.retry_schedule))


async def claim(svc: Services, limit: int, token: str) -> list[Delivery]:
    async with svc.db.write() as tx:
        return await Q.claim(tx, svc.clock(), limit, token, _lease(svc))


def fresh(svc: Services, d: Delivery) -> bool:
    """True when our lease on callback `d` (just claimed) still has at least half its time and
    more than a callback's timeout left: nobody else can claim it before that, no renewal."""
    if d.lease_until is None:
        return False
    settings = svc.settings
    left = (d.lease_until - svc.clock()).total_seconds()
    return left >= settings.delivery_lease_seconds / 2 and left > settings.callback_timeout_seconds


async def renew(svc: Services, d: Delivery, token: str) -> bool:
    """Extend our lease right before sending; False when it is no longer ours (expired and
    claimed by another worker, or already done)."""
    async with svc.db.write() as tx:
        return await Q.renew(tx, d, token, svc.clock(), _lease(svc))


async def finish(svc: Services, d: Delivery, token: str, outcome: work.Outcome) -> work.Step:
    (step,) = await finish_many(svc, [(d, token, outcome)])
    return step


async def finish_many(
    svc: Services, done: Sequence[tuple[Delivery, str, work.Outcome]]
) -> list[work.Step]:
    """Record each attempt and move each delivery, all in one transaction (the worker hands
    over every send that finished while its previous commit was being written)."""
    now = svc.clock()
    retries = policy(svc)
    steps: list[work.Step] = []
    async with svc.db.write() as tx:
        for d, token, outcome in done:
            step = work.next_step(outcome, d.attempts + 1, retries, now, queue=Q)
            steps.append(step)
            error = outcome.error
            if step.note:
                error = f"{error}; {step.note}" if error else step.note
            assert d.id is not None
            tx.add(
                DeliveryAttempt(
                    delivery_id=d.id,
                    date=now,
                    status_code=outcome.status_code,
                    error=error,
                    latency_ms=outcome.latency_ms,
                )
            )
            await Q.settle(
                tx,
                d,
                token,
                step.state,
                due=step.next_attempt_at,
                fenced=not outcome.ok,
                date_updated=now,
            )
    return steps


log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, svc: Services, *, name: str = "worker", concurrency: int | None = None):
        self.svc = svc
        self.name = name
        self.concurrency = concurrency or svc.settings.delivery_concurrency
        self.poll = svc.settings.delivery_poll_seconds
        self.token = work.new_token()
        self.sent = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._busy = 0  # deliveries claimed and not finished
        self._lines: dict[tuple[str, str, str], list[Delivery]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Group commit of finished sends: each waits for the commit that records it.
        self._finished: list[tuple[Delivery, work.Outcome, asyncio.Future[work.Step]]] = []
        self._recorder: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"delivery-{self.name}")
        log.info("delivery %s started (up to %d at a time)", self.name, self.concurrency)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; give sends in flight `grace` seconds, then cancel them (their
        leases expire and another worker, or the next start, sends them again)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._recorder is not None:
            await asyncio.gather(self._recorder, return_exceptions=True)
        log.info("delivery %s stopped", self.name)

    async def run_until(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    # --- work ------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim what is due (as many as free slots) and send it; wait for those sends."""
        started = await self._fill()
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        return started

    async def _fill(self) -> int:
        free = self.concurrency - self._busy
        claimed = await claim(self.svc, free, self.token)
        self._busy += len(claimed)
        for d in claimed:
            key = (d.port_order_sid or d.loa_sid or d.sid, d.channel, d.target)
            if key in self._lines:
                self._lines[key].append(d)
                continue
            self._lines[key] = [d]
            task = asyncio.create_task(self._send_line(key))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _send_line(self, key: tuple[str, str, str]) -> None:
        """Deliveries of one order to one target go one after the other, in claim order, so a
        receiver normally sees CREATED before PENDING; other lines go in parallel."""
        line = self._lines[key]
        try:
            while line:
                d = line.pop(0)
                try:
                    await self._deliver(d)
                finally:
                    self._busy -= 1
        finally:
            self._busy -= len(line)
            del self._lines[key]

    async def _run(self) -> None:
        seen = self.svc.bus.last_id
        written = self.svc.wakeups[Q.name]
        while not self._stopping:
            self._wake.clear()
            written.clear()
            try:
                await self._fill()
            except Exception:
                log.exception("delivery %s: claiming failed; trying again", self.name)
            # Sleep until a send finishes (a slot is free: _wake), this process commits
            # deliveries, new events are announced, or the poll interval passes.
            seen = await work.wait([self._wake, written], self.svc.bus, seen, self.poll)

    async def _record(self, d: Delivery, outcome: work.Outcome) -> work.Step:
        """`finish`, grouped: sends finishing while a commit is being written are all
        recorded by the next one (each attempt and move as `finish` would do it)."""
        future: asyncio.Future[work.Step] = asyncio.get_running_loop().create_future()
        self._finished.append((d, outcome, future))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_finished())
        return await future

    async def _write_finished(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                steps = await finish_many(
                    self.svc, [(d, self.token, outcome) for d, outcome, _ in batch]
                )
            except Exception as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), step in zip(batch, steps, strict=True):
                if not future.done():
                    future.set_result(step)

    async def _deliver(self, d: Delivery) -> None:
        # A delivery that waited behind others of its line may have outlived its lease:
        # renew it (fenced), or leave it to whoever holds it now. One claimed moments ago
        # still holds at least half its lease (no one else can claim it before lease_until),
        # which outlasts a callback's timeout: no renewal, one write transaction less.
        try:
            ours = (d.channel == CALLBACK and fresh(self.svc, d)) or await renew(
                self.svc, d, self.token
            )
        except Exception:
            log.exception(
                "delivery %s: renewing %s failed (its lease will expire)", self.name, d.sid
            )
            return
        if not ours:
            log.info("delivery %s: %s was taken over by another worker", self.name, d.sid)
            return
        try:
            if d.channel == CALLBACK:
                outcome = await callbacks.send(self.svc, d)
            else:
                outcome = await mails.send(self.svc, d)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("delivery %s: sending %s failed unexpectedly", self.name, d.sid)
            outcome = work.Outcome(False, error=f"internal error: {type(exc).__name__}")
        try:
            step = await self._record(d, outcome)
        except Exception:
            log.exception(
                "delivery %s: recording %s failed (its lease will expire)", self.name, d.sid
            )
            return
        self.sent += 1
        result = "delivered" if outcome.ok else "retry" if step.state == work.PENDING else "dead"
        DELIVERY_ATTEMPTS.labels("callback" if d.channel == CALLBACK else "email", result).inc()
        if step.state != "pending" and not outcome.ok:
            quiet = (outcome.error or "").startswith("not sent")  # e.g. the LOA is signed
            (log.info if quiet else log.warning)(
                "delivery %s (%s to %s) given up: %s", d.sid, d.kind, d.channel, outcome.error
            )
