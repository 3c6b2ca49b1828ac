"""The callbacks case: N status callbacks queued at once (10,000; 2,000 with --quick), sent by
the real delivery worker inside `portico serve` (default concurrency) to a receiver on
loopback: deliveries per second, from the server being ready to the last one received, and
the server's CPU time (user + system) per callback over that time.

The deliveries are written straight into the queue (one event of one order, N callback rows,
each its own line), so the figure is the worker's: claim, sign, POST, record."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.services import port_orders
from app.store import queries
from app.wiring import build_services
from tests.bench.harness import Options, cpu_seconds, settings_for, sqlite_database, workdir
from tests.bench.serving import new_account, number, server
from tests.bench.sustained import profile
from tests.builders import order_input

DESCRIPTION = "10,000 queued status callbacks to a loopback receiver: deliveries/s"


class Receiver:
    """A minimal HTTP/1.1 server (keep-alive) answering 204 to every POST, counting them."""

    def __init__(self) -> None:
        self.received = 0
        self.done = asyncio.Event()
        self.expected = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self.handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
                self.received += 1
                if self.received >= self.expected:
                    self.done.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # stop() ends idle keep-alive handlers; returning (not re-raising) keeps asyncio's
            # stream callback from logging the cancellation as an error (Python 3.11).
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self.writers):
                writer.close()  # the worker is gone: its connections end, their handlers too
            for task in self.handlers:
                task.cancel()
            await asyncio.gather(*self.handlers, return_exceptions=True)
            await self.server.wait_closed()


async def seed(url: str, var_dir: Path) -> tuple[int, str]:
    """One account with one order (no callback of its own): (its event id, account SID)."""
    svc = build_services(settings_for(url, var_dir))
    try:
        caller, _ = await new_account(svc)
        await port_orders.create_port_order(svc, caller, order_input(number=number()))
        async with svc.db.read() as s:
            event_id = await queries.last_event_id(s)
    finally:
        await svc.close()
    return int(event_id), caller.sid


def queue_callbacks(path: str, event_id: int, account_sid: str, target: str, n: int) -> None:
    now = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    rows = [
        (f"DL{uuid.uuid4().hex}", event_id, account_sid, "callback", target, "status_callback",
         "pending", 0, str(now), str(now), str(now))
        for _ in range(n)
    ]  # fmt: skip
    conn = sqlite3.connect(path)
    try:
        conn.executemany(
            "INSERT INTO deliveries (sid, event_id, account_sid, channel, target, kind, state,"
            " attempts, next_attempt_at, date_created, date_updated)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.commit()
    finally:
        conn.close()


async def measure(n: int, url: str, where: Path) -> dict[str, float]:
    receiver = Receiver()
    receiver.expected = n
    port = await receiver.start()
    if True:
        event_id, account_sid = await seed(url, where)
        target = f"http://127.0.0.1:{port}/callbacks"
        queue_callbacks(url.split("///", 1)[1], event_id, account_sid, target, n)
        env = {"PORTICO_CALLBACK_ALLOWED_NETWORKS": "127.0.0.0/8"}
        try:
            async with server(url, where, worker=True, env=env) as replica:
                started = time.perf_counter()
                cpu_before = cpu_seconds(replica.proc.pid)
                received_at_ready = receiver.received
                profiler = profile(replica.proc.pid)
                await asyncio.wait_for(receiver.done.wait(), timeout=600)
                wall = time.perf_counter() - started
                cpu = cpu_seconds(replica.proc.pid) - cpu_before
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)
                    profiler.wait(timeout=60)
        finally:
            await receiver.stop()
    sent = n - received_at_ready
    return {
        "callbacks.per_second": sent / wall,
        "callbacks.count": n,
        "callbacks.cpu_ms_per_delivery": cpu / sent * 1000,
    }


def run(options: Options) -> dict[str, float]:
    with workdir() as where:
        url = sqlite_database(where)
        return asyncio.run(measure(2_000 if options.quick else 10_000, url, where))
