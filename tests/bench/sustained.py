"""The sustained case: orders created at a steady 60 per second for 60 s (15 s with --quick)
by 50 concurrent clients against one real `portico serve` with its delivery worker on
(PostgreSQL when PORTICO_BENCH_POSTGRES_URL answers, else SQLite: `sustained.postgres` says
which), while every status callback goes to a loopback HTTP receiver and every status mail to a
real aiosmtpd SMTP server on loopback (PORTICO_SMTP_URL), both in a process of their own
(tests/bench/receivers.py). Each create implies three deliveries (callbacks for CREATED and
PENDING, the PENDING status mail): 180 deliveries per second. The load runs twice: with the
delivery worker in one child process of the server (PORTICO_DELIVERY_WORKER_PROCESSES=1:
`sustained.*`), and inside the server process (the default: `sustained.in_process.*`).

- `sustained.creates_per_second`: creates that succeeded / the load's wall time (the clients
  are paced: 60 is the most there can be).
- `sustained.delivery_lag_p99_ms` (and p50, max; per channel): for each delivery of an event
  of the load, the receiver's arrival time (the request or message complete, before its 2xx or
  250) minus the event's `date_created`. That column is the writer's clock inside the event's
  transaction, a few milliseconds before its commit: good enough as the commit time (the lag
  is overstated by those milliseconds, never understated).
- `sustained.backlog_drain_s`: from the load's last create until no delivery is pending
  (polled in the database every 50 ms); `sustained.backlog_at_load_end`, `_max` (sampled every
  250 ms during the load).
- `sustained.server_cpu_ms_per_delivery`: user + system CPU time of the server process (and
  its worker process) from the load's start until drained, per delivery. The server served
  the creates too, so this is an upper bound of the delivery worker's own cost
  (`callbacks.cpu_ms_per_delivery` is the worker's alone).
- `sustained.lost`: deliveries of the load never received (must be 0); `sustained.duplicates`:
  arrivals beyond the first of a delivery; `sustained.machine_load`: the 1-minute load average
  when the load ended (the machine is shared: above its 2 cores, every process waits for CPU).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from app.services.context import Services
from app.store.tables import Delivery, Event
from app.wiring import build_services
from tests.bench.harness import (
    Options,
    cpu_seconds,
    percentile,
    postgres_available,
    postgres_database,
    settings_for,
    sqlite_database,
    workdir,
)
from tests.bench.serving import Server, client, new_account, number, server
from tests.bench.write import MUTATION

DESCRIPTION = (
    "60 creates/s for 60 s with callbacks (loopback HTTP) and mail (aiosmtpd): delivery lag "
    "p99, backlog drain, creates/s, server CPU per delivery"
)

RATE = 60.0  # creates per second
CLIENTS = 50
WARMUP = 20  # creates before the measured load (connections, caches)
DRAIN_LIMIT = 600.0  # seconds to wait for the backlog to empty after the load


@dataclass
class Receivers:
    proc: subprocess.Popen[str]
    http_port: int
    smtp_port: int
    results: Path

    def arrivals(self) -> list[tuple[str, str, float]]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)
        return [(str(c), str(sid), float(t)) for c, sid, t in json.loads(self.results.read_text())]


@contextlib.contextmanager
def receivers(where: Path) -> Iterator[Receivers]:
    results = where / "arrivals.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.receivers", str(results)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ports = json.loads(proc.stdout.readline())
        yield Receivers(proc, int(ports["http"]), int(ports["smtp"]), results)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _input(customer: int, callback: str) -> dict[str, Any]:
    """One of CLIENTS customers (its own signer: its orders share one LOA)."""
    return {
        "number": number(),
        "isoCountry": "US",
        "region": "CA",
        "city": "San Francisco",
        "postalCode": "94107",
        "street": "645 Harrison St",
        "firstName": "James",
        "lastName": "Smith",
        "email": f"customer{customer}@example.com",
        "statusCallback": callback,
    }


async def _pending(svc: Services) -> int:
    async with svc.db.read() as s:
        stmt = select(func.count()).where(col(Delivery.state) == "pending")
        return int((await s.execute(stmt)).scalar_one())


async def _until_drained(svc: Services, limit: float) -> float | None:
    """Poll every 50 ms until no delivery is pending: when that was (None: not within limit)."""
    deadline = time.perf_counter() + limit
    while await _pending(svc):  # noqa: ASYNC110 -- the state is in the database: polled
        if time.perf_counter() > deadline:
            return None
        await asyncio.sleep(0.05)
    return time.perf_counter()


async def _load(
    replica: Server, authorization: str, callback: str, total: int, start: float
) -> tuple[int, list[float], float]:
    """`total` creates, the i-th sent at `start + i / RATE` (or as soon as a client is free):
    (how many succeeded, their latencies, when the last one ended)."""
    slots = itertools.count()
    latencies: list[float] = []
    ok = 0
    last_end = start

    async def one_client(customer: int) -> None:
        nonlocal ok, last_end
        async with client(replica, authorization) as http:
            while (i := next(slots)) < total:
                delay = start + i / RATE - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = {"query": MUTATION, "variables": {"input": _input(customer, callback)}}
                sent = time.perf_counter()
                r = await http.post("/graphql", json=body)
                ended = time.perf_counter()
                last_end = max(last_end, ended)
                data = r.json()
                payload = (data.get("data") or {}).get("createPortOrder") or {}
                if r.status_code == 200 and not data.get("errors") and not payload["userErrors"]:
                    ok += 1
                    latencies.append(ended - sent)

    await asyncio.gather(*(one_client(c) for c in range(CLIENTS)))
    return ok, latencies, last_end


@contextlib.asynccontextmanager
async def _sampling(svc: Services, samples: list[int]) -> AsyncIterator[None]:
    async def sample() -> None:
        while True:
            samples.append(await _pending(svc))
            await asyncio.sleep(0.25)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _lags(
    svc: Services, arrivals: list[tuple[str, str, float]], since: datetime
) -> dict[str, Any]:
    first: dict[str, float] = {}
    for _, sid, at in arrivals:
        first[sid] = min(at, first.get(sid, at))
    async with svc.db.read() as s:
        stmt = (
            select(col(Delivery.sid), col(Delivery.channel), col(Event.date_created))
            .join(Event, col(Event.id) == col(Delivery.event_id))
            .where(col(Event.date_created) >= since)
        )
        rows = (await s.execute(stmt)).all()
    lags: dict[str, list[float]] = {"callback": [], "email": []}
    lost = 0
    for sid, channel, created in rows:
        if sid not in first:
            lost += 1
            continue
        lags[channel].append((first[sid] - created.timestamp()) * 1000)
    return {
        "lags": lags,
        "lost": lost,
        "deliveries": len(rows),
        "duplicates": len(arrivals) - len(first),
    }


def profile(pid: int, suffix: str = "") -> subprocess.Popen[bytes] | None:
    """With PORTICO_BENCH_PROFILE=FILE: py-spy samples the server (and its worker processes)
    from the load's start until drained, into FILE (collapsed stacks: one line per stack, its
    sample count last); `suffix` is added to FILE's name (one file per run)."""
    out = os.environ.get("PORTICO_BENCH_PROFILE")
    if not out:
        return None
    out += suffix
    spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
         "--output", out, "--nonblocking", "--subprocesses"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def measure(
    url: str, where: Path, seconds: float, postgres: bool, processes: int
) -> dict[str, float]:
    settings = settings_for(url, where)
    svc = build_services(settings)
    try:
        _, authorization = await new_account(svc)
    finally:
        await svc.close()
    total = int(RATE * seconds)
    with receivers(where) as rx:
        callback = f"http://127.0.0.1:{rx.http_port}/callbacks"
        env = {
            "PORTICO_CALLBACK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "PORTICO_SMTP_URL": f"smtp://127.0.0.1:{rx.smtp_port}",
            "PORTICO_DELIVERY_WORKER_PROCESSES": str(processes),
        }
        svc = build_services(settings)
        try:
            async with server(url, where, worker=True, env=env) as replica:
                warm_start = time.perf_counter()
                await _load(replica, authorization, callback, WARMUP, warm_start)
                await _until_drained(svc, DRAIN_LIMIT)
                since = datetime.now(UTC)
                cpu_before = cpu_seconds(replica.proc.pid, children=True)
                profiler = profile(replica.proc.pid, f".{processes}")
                samples: list[int] = []
                start = time.perf_counter()
                async with _sampling(svc, samples):
                    ok, latencies, last_end = await _load(
                        replica, authorization, callback, total, start
                    )
                at_end = await _pending(svc)
                load = os.getloadavg()[0]
                left = DRAIN_LIMIT - (time.perf_counter() - last_end)
                drained_at = await _until_drained(svc, left)
                cpu = cpu_seconds(replica.proc.pid, children=True) - cpu_before
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)
                    profiler.wait(timeout=60)
            seen = await _lags(svc, rx.arrivals(), since)
        finally:
            await svc.close()
    lags = seen["lags"]
    every = lags["callback"] + lags["email"]
    figures = {
        "sustained.postgres": 1.0 if postgres else 0.0,
        "sustained.seconds": seconds,
        "sustained.creates_per_second": ok / (last_end - start),
        "sustained.create_p99_ms": percentile(latencies, 99) * 1000 if latencies else 0.0,
        "sustained.deliveries": float(seen["deliveries"]),
        "sustained.delivery_lag_p50_ms": percentile(every, 50) if every else 0.0,
        "sustained.delivery_lag_p99_ms": percentile(every, 99) if every else 0.0,
        "sustained.delivery_lag_max_ms": max(every, default=0.0),
        "sustained.backlog_at_load_end": float(at_end),
        "sustained.backlog_max": float(max(samples, default=0)),
        "sustained.backlog_drain_s": (drained_at - last_end) if drained_at else DRAIN_LIMIT,
        "sustained.drained": 1.0 if drained_at else 0.0,
        "sustained.server_cpu_ms_per_delivery": cpu / max(1, seen["deliveries"]) * 1000,
        "sustained.machine_load": load,
        "sustained.lost": float(seen["lost"]),
        "sustained.duplicates": float(seen["duplicates"]),
    }
    for channel, values in lags.items():
        if values:
            figures[f"sustained.{channel}_lag_p99_ms"] = percentile(values, 99)
    return figures


def run(options: Options) -> dict[str, float]:
    """The same load twice: the delivery worker in one child process of the server
    (PORTICO_DELIVERY_WORKER_PROCESSES=1: `sustained.*`), and inside the server process (the
    default: `sustained.in_process.*`)."""
    seconds = 15.0 if options.quick else 60.0
    figures: dict[str, float] = {}
    for processes, label in ((1, "sustained."), (0, "sustained.in_process.")):
        got = _once(seconds, processes)
        figures.update({label + k.removeprefix("sustained."): v for k, v in got.items()})
    return figures


def _once(seconds: float, processes: int, tries: int = 3) -> dict[str, float]:
    """One load on a fresh database; a server that was not ready in time (a machine busy
    enough that importing takes half a minute) is started again, up to `tries` times."""
    for attempt in range(tries):
        try:
            with workdir() as where:
                if postgres_available():
                    with postgres_database() as url:
                        return asyncio.run(measure(url, where, seconds, True, processes))
                url = sqlite_database(where)
                return asyncio.run(measure(url, where, seconds, False, processes))
        except RuntimeError as exc:
            if "not ready" not in str(exc) or attempt == tries - 1:
                raise
            print(f"   the server was not ready in time; starting again ({exc})")
    raise AssertionError("unreachable")
