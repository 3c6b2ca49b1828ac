"""The delivery worker: claims due deliveries (the DELIVERIES queue, app/store/work.py) and
sends them, many at a time.

It runs inside `portico serve` (app/main.py lifespan, unless PORTICO_DELIVERY_WORKER=false)
and alone as `portico worker`; any number of them may share one PostgreSQL database (claims
use FOR UPDATE SKIP LOCKED and a lease). It wakes up when this process commits deliveries,
when the bus announces new events (any replica), when sends finish (slots are free), and
every PORTICO_DELIVERY_POLL_SECONDS otherwise (retries coming due).

How sends are spread:
- the worker's claims, renewals and records go through a small connection pool of their own
  (Database.work), so they never queue behind a busy server's HTTP requests;
- overall, at most PORTICO_DELIVERY_CONCURRENCY deliveries are claimed and not yet recorded;
  a claim takes as many as there are free slots, once a quarter of them are free (or the
  worker is idle), in one transaction that also reads what those sends need (their events,
  accounts and orders: app/services/delivery_rows.py);
- per receiver host (a callback URL's host name; all mail counts as one host, the SMTP
  server), at most PORTICO_DELIVERY_CONCURRENCY_PER_HOST sends at once: a slow receiver
  holds its own slots, not everyone's sends;
- per order and target ("lines"): deliveries of one order to one target go one after the
  other, in claim order, so a receiver normally sees CREATED before PENDING.

The send happens outside any transaction; finished sends are recorded together (a group
commit: one transaction for every send that finished while the previous one was written),
and a send's slot is free again once it is sent, not once it is recorded: in a server whose
event loop is busy with requests, each round trip of the record's transaction waits behind
them, and slots held through it kept the worker's throughput below the deliveries coming in. A
worker that dies keeps nothing: its lease expires and another worker claims the row again. A
success is final even if the lease was lost meanwhile (pending -> delivered only), so nothing
is sent again after one; a failure only reschedules while the lease is still ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from app.observability.metrics import DELIVERY_ATTEMPTS
from app.porting.notifications import CALLBACK, EMAIL
from app.services import callbacks, delivery_rows, mails
from app.services.context import Services
from app.services.delivery_rows import Rows
from app.store import queries, work
from app.store.tables import Delivery

Q = work.DELIVERIES
MAIL_HOST = "mail"  # every email goes to the one SMTP server (or the outbox)


def _lease(svc: Services) -> timedelta:
    return timedelta(seconds=svc.settings.delivery_lease_seconds)


def policy(svc: Services) -> work.RetryPolicy:
    return work.RetryPolicy(tuple(svc.settings.retry_schedule))


def host_of(channel: str, target: str) -> tuple[str, str]:
    """What the per-host limit counts a delivery against: its callback URL's host name (or
    MAIL_HOST), and the start of its target up to the host and port (`https://h.example:8443`),
    by which a claim can leave that receiver's deliveries alone."""
    if channel != CALLBACK:
        return MAIL_HOST, ""
    try:
        parts = urlsplit(target)
        host = parts.hostname or ""
    except ValueError:
        return "", ""
    start = target.find("//")
    prefix = target[: start + 2 + len(parts.netloc)] if start >= 0 and parts.netloc else ""
    return f"http://{host}", prefix


async def claim(svc: Services, limit: int, token: str) -> list[Delivery]:
    deliveries, _ = await claim_with_rows(svc, limit, token)
    return deliveries


async def claim_with_rows(
    svc: Services,
    limit: int,
    token: str,
    *,
    skip_prefixes: Collection[str] = (),
    skip_mail: bool = False,
) -> tuple[list[Delivery], Rows]:
    """Lease up to `limit` due deliveries and read what their sends need, in one transaction.
    `skip_prefixes` (of callback targets), `skip_mail`: leave those to a later claim (their
    receiver is busy)."""
    where = work.deliveries_except(skip_prefixes, [EMAIL] if skip_mail else [])
    async with svc.db.work().write() as tx:
        deliveries = await Q.claim(tx, svc.clock(), limit, token, _lease(svc), where)
        rows = await delivery_rows.load(tx, deliveries) if deliveries else Rows({}, {}, {})
    return deliveries, rows


def timeout_of(svc: Services, d: Delivery) -> float:
    settings = svc.settings
    return (
        settings.callback_timeout_seconds
        if d.channel == CALLBACK
        else settings.smtp_timeout_seconds
    )


def fresh(svc: Services, d: Delivery) -> bool:
    """True when our lease on `d` still has at least half its time and more than one send's
    timeout left: nobody else can claim it before that, so it needs no renewal."""
    if d.lease_until is None:
        return False
    settings = svc.settings
    left = (d.lease_until - svc.clock()).total_seconds()
    return left >= settings.delivery_lease_seconds / 2 and left > timeout_of(svc, d)


async def renew(svc: Services, d: Delivery, token: str) -> bool:
    """Extend our lease right before sending; False when it is no longer ours (expired and
    claimed by another worker, or already done)."""
    now = svc.clock()
    async with svc.db.work().write() as tx:
        ours = await Q.renew(tx, d, token, now, _lease(svc))
    if ours:
        d.lease_until = now + _lease(svc)  # as stored: fresh() counts from it
    return ours


async def finish(svc: Services, d: Delivery, token: str, outcome: work.Outcome) -> work.Step:
    (step,) = await finish_many(svc, [(d, token, outcome)])
    return step


async def finish_many(
    svc: Services, done: Sequence[tuple[Delivery, str, work.Outcome]]
) -> list[work.Step]:
    """Record each attempt and move each delivery, all in one transaction (the worker hands
    over every send that finished while its previous commit was being written): one INSERT
    of the attempts, one UPDATE of the deliveries delivered, one fenced UPDATE per failure."""
    now = svc.clock()
    retries = policy(svc)
    steps: list[work.Step] = []
    attempts: list[dict[str, Any]] = []
    delivered: list[int] = []
    failed: list[tuple[Delivery, str, work.Step]] = []
    for d, token, outcome in done:
        step = work.next_step(outcome, d.attempts + 1, retries, now, queue=Q)
        steps.append(step)
        error = outcome.error
        if step.note:
            error = f"{error}; {step.note}" if error else step.note
        assert d.id is not None
        attempts.append(
            {
                "delivery_id": d.id,
                "date": now,
                "status_code": outcome.status_code,
                "error": error,
                "latency_ms": outcome.latency_ms,
            }
        )
        if outcome.ok:
            delivered.append(d.id)
        else:
            failed.append((d, token, step))
    async with svc.db.work().write() as tx:
        await queries.add_delivery_attempts(tx, attempts)
        # Unfenced (a success lands even after the lease was lost): pending -> delivered.
        await Q.settle_many(tx, delivered, Q.done, date_updated=now)
        for d, token, step in failed:
            await Q.settle(tx, d, token, step.state, due=step.next_attempt_at, date_updated=now)
    return steps


log = logging.getLogger(__name__)


class _HostLimit:
    """The per-host semaphore, forgotten once nobody waits on it or holds it; the target
    prefixes (host_of) of the deliveries holding or waiting for it."""

    def __init__(self, slots: int):
        self.semaphore = asyncio.Semaphore(slots)
        self.users = 0
        self.prefixes: Counter[str] = Counter()


class DeliveryWorker:
    def __init__(
        self,
        svc: Services,
        *,
        name: str = "worker",
        concurrency: int | None = None,
        per_host: int | None = None,
    ):
        self.svc = svc
        self.name = name
        self.concurrency = concurrency or svc.settings.delivery_concurrency
        self.per_host = per_host or svc.settings.delivery_concurrency_per_host
        # Claim once this many slots are free (or nothing is in flight): fewer, fuller claims.
        self.batch = max(1, self.concurrency // 4)
        self.poll = svc.settings.delivery_poll_seconds
        self.token = work.new_token()
        self.sent = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._busy = 0  # deliveries claimed and not finished
        self._lines: dict[tuple[str, str, str], list[tuple[Delivery, Rows]]] = {}
        self._hosts: dict[str, _HostLimit] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Group commit of finished sends: each waits for the commit that records it.
        self._finished: list[tuple[Delivery, work.Outcome, asyncio.Future[work.Step]]] = []
        self._recorder: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"delivery-{self.name}")
        log.info(
            "delivery %s started (up to %d at a time, %d per host)",
            self.name,
            self.concurrency,
            self.per_host,
        )

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
        while self._recorder is not None and not self._recorder.done():
            await asyncio.gather(self._recorder, return_exceptions=True)
        return started

    async def _fill(self) -> int:
        free = self.concurrency - self._busy
        if free <= 0:
            return 0
        prefixes, mail = self._busy_receivers()
        claimed, rows = await claim_with_rows(
            self.svc, free, self.token, skip_prefixes=prefixes, skip_mail=mail
        )
        self._busy += len(claimed)
        for d in claimed:
            key = (d.port_order_sid or d.loa_sid or d.sid, d.channel, d.target)
            if key in self._lines:
                self._lines[key].append((d, rows))
                continue
            self._lines[key] = [(d, rows)]
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
                d, rows = line.pop(0)
                try:
                    await self._deliver(d, rows)
                finally:
                    self._busy -= 1
                    if self.concurrency - self._busy >= self.batch:
                        self._wake.set()
        finally:
            self._busy -= len(line)
            del self._lines[key]

    async def _run(self) -> None:
        seen = self.svc.bus.last_id
        written = self.svc.wakeups[Q.name]
        while not self._stopping:
            self._wake.clear()
            written.clear()
            free = self.concurrency - self._busy
            if free >= self.batch or self._busy == 0:
                try:
                    await self._fill()
                except Exception:
                    log.exception("delivery %s: claiming failed; trying again", self.name)
            # Sleep until enough slots are free (_wake), this process commits deliveries,
            # new events are announced, or the poll interval passes.
            seen = await work.wait([self._wake, written], self.svc.bus, seen, self.poll)

    def _record(self, d: Delivery, outcome: work.Outcome) -> asyncio.Future[work.Step]:
        """`finish`, grouped: sends finishing while a commit is being written are all
        recorded by the next one (each attempt and move as `finish` would do it)."""
        future: asyncio.Future[work.Step] = asyncio.get_running_loop().create_future()
        self._finished.append((d, outcome, future))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_finished())
        return future

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

    @contextlib.asynccontextmanager
    async def _host_slot(self, d: Delivery) -> AsyncIterator[None]:
        host, prefix = host_of(d.channel, d.target)
        limit = self._hosts.get(host)
        if limit is None:
            limit = self._hosts[host] = _HostLimit(self.per_host)
        limit.users += 1
        limit.prefixes[prefix] += 1
        try:
            async with limit.semaphore:
                yield
        finally:
            limit.users -= 1
            limit.prefixes[prefix] -= 1
            if not limit.prefixes[prefix]:
                del limit.prefixes[prefix]
            if limit.users == 0:
                del self._hosts[host]

    def _busy_receivers(self) -> tuple[set[str], bool]:
        """The target prefixes of hosts whose every slot is taken, and whether mail's are: a
        claim leaves their deliveries to a later one, so a slow receiver keeps its own slots
        busy, not every slot of the worker."""
        prefixes: set[str] = set()
        mail = False
        for host, limit in self._hosts.items():
            if limit.users >= self.per_host:
                if host == MAIL_HOST:
                    mail = True
                else:
                    prefixes.update(p for p in limit.prefixes if p)
        return prefixes, mail

    async def _deliver(self, d: Delivery, rows: Rows) -> None:
        async with self._host_slot(d):
            outcome = await self._send(d, rows)
        if outcome is None:
            return
        # Recorded by the next group commit. The slot and the line go on meanwhile: the row
        # stays leased to us until the record, so no claim takes it again before.
        self._record(d, outcome).add_done_callback(functools.partial(self._recorded, d, outcome))

    def _recorded(
        self, d: Delivery, outcome: work.Outcome, future: asyncio.Future[work.Step]
    ) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.error(
                "delivery %s: recording %s failed (its lease will expire)",
                self.name,
                d.sid,
                exc_info=error,
            )
            return
        step = future.result()
        self.sent += 1
        result = "delivered" if outcome.ok else "retry" if step.state == work.PENDING else "dead"
        DELIVERY_ATTEMPTS.labels("callback" if d.channel == CALLBACK else "email", result).inc()
        if step.state != "pending" and not outcome.ok:
            quiet = (outcome.error or "").startswith("not sent")  # e.g. the LOA is signed
            (log.info if quiet else log.warning)(
                "delivery %s (%s to %s) given up: %s", d.sid, d.kind, d.channel, outcome.error
            )

    async def _send(self, d: Delivery, rows: Rows) -> work.Outcome | None:
        """One attempt (None: not ours any more). A delivery that waited behind others of
        its line or host may have outlived its lease: renew it (fenced), or leave it to
        whoever holds it now. One claimed moments ago still holds at least half its lease
        (no one else can claim it before lease_until), which outlasts a send's timeout: no
        renewal, one write transaction less."""
        try:
            ours = fresh(self.svc, d) or await renew(self.svc, d, self.token)
        except Exception:
            log.exception(
                "delivery %s: renewing %s failed (its lease will expire)", self.name, d.sid
            )
            return None
        if not ours:
            log.info("delivery %s: %s was taken over by another worker", self.name, d.sid)
            return None
        try:
            if d.channel == CALLBACK:
                return await callbacks.send(self.svc, d, rows)
            return await mails.send(self.svc, d, rows)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("delivery %s: sending %s failed unexpectedly", self.name, d.sid)
            return work.Outcome(False, error=f"internal error: {type(exc).__name__}")
