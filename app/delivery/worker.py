"""The delivery worker: claims due deliveries and sends them, up to N at a time.

It runs inside `portico serve` (app/main.py lifespan, unless PORTICO_DELIVERY_WORKER=false)
and alone as `portico worker`; any number of them may share one PostgreSQL database (claims
use FOR UPDATE SKIP LOCKED and a lease, app/delivery/queue.py). It wakes up when the bus
announces new events (same process), when a send finishes (a slot is free), and every
PORTICO_DELIVERY_POLL_SECONDS otherwise (other processes' events, retries coming due).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.delivery import callbacks, mails, queue, retry
from app.delivery.plan import CALLBACK
from app.services.context import Services
from app.store.tables import Delivery

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, svc: Services, *, name: str = "worker", concurrency: int | None = None):
        self.svc = svc
        self.name = name
        self.concurrency = concurrency or svc.settings.delivery_concurrency
        self.poll = svc.settings.delivery_poll_seconds
        self.token = queue.new_lease_token()
        self.sent = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._busy = 0  # deliveries claimed and not finished
        self._lines: dict[tuple[str, str, str], list[Delivery]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Group commit of finished sends: each waits for the commit that records it.
        self._finished: list[tuple[Delivery, retry.Outcome, asyncio.Future[retry.Step]]] = []
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
        claimed = await queue.claim(self.svc, free, self.token)
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
        bus = self.svc.bus
        seen = bus.last_id
        while not self._stopping:
            self._wake.clear()
            try:
                await self._fill()
            except Exception:
                log.exception("delivery %s: claiming failed; trying again", self.name)
            # Sleep until a send finishes (a slot is free: _wake), new events are announced,
            # or the poll interval passes (retries coming due, other processes' events).
            bus_wait = asyncio.create_task(bus.wait_beyond(seen, self.poll))
            woken = asyncio.create_task(self._wake.wait())
            try:
                await asyncio.wait({bus_wait, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (bus_wait, woken):
                    t.cancel()
                await asyncio.gather(bus_wait, woken, return_exceptions=True)
            if bus_wait.done() and not bus_wait.cancelled() and bus_wait.exception() is None:
                seen = bus_wait.result()

    async def _record(self, d: Delivery, outcome: retry.Outcome) -> retry.Step:
        """queue.finish, grouped: sends finishing while a commit is being written are all
        recorded by the next one (each attempt and move as queue.finish would do it)."""
        future: asyncio.Future[retry.Step] = asyncio.get_running_loop().create_future()
        self._finished.append((d, outcome, future))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_finished())
        return await future

    async def _write_finished(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                steps = await queue.finish_many(
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
            ours = (d.channel == CALLBACK and queue.fresh(self.svc, d)) or await queue.renew(
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
            outcome = retry.Outcome(False, error=f"internal error: {type(exc).__name__}")
        try:
            step = await self._record(d, outcome)
        except Exception:
            log.exception(
                "delivery %s: recording %s failed (its lease will expire)", self.name, d.sid
            )
            return
        self.sent += 1
        if step.state != "pending" and not outcome.ok:
            quiet = (outcome.error or "").startswith("not sent")  # e.g. the LOA is signed
            (log.info if quiet else log.warning)(
                "delivery %s (%s to %s) given up: %s", d.sid, d.kind, d.channel, outcome.error
            )
