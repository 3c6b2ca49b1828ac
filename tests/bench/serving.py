"""What the HTTP cases share: a `portico serve` (uvicorn, one worker) on loopback over a given
database, an account seeded through the services, timed requests, figures per series."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.services.context import Caller, Services
from tests.bench.harness import env_for, percentile
from tests.builders import tenant
from tests.subscriptions.support import PORTICO, free_port

SQL_HEADER = "x-portico-sql-statements"


class Server:
    """`portico serve --no-migrate` in a subprocess on a loopback port, logging warnings only
    (an access log line per request would be measured too)."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [
                str(PORTICO),
                "serve",
                "--no-migrate",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self) -> None:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"portico serve exited:\n{self.log_path.read_text()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"portico serve not ready:\n{self.log_path.read_text()}")
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@contextlib.asynccontextmanager
async def server(
    database_url: str,
    var_dir: Path,
    *,
    worker: bool = False,
    env: dict[str, str] | None = None,
    **more: str,
) -> AsyncIterator[Server]:
    """SQL counting on; the delivery worker and the scheduler off unless asked (their polling
    would only add noise)."""
    full = {
        **env_for(database_url, var_dir),
        "PORTICO_LOG_LEVEL": "WARNING",
        "PORTICO_DEBUG_COUNT_SQL": "true",
        "PORTICO_SCHEDULER_ENABLED": "false",
        "PORTICO_DELIVERY_WORKER": "true" if worker else "false",
        # The budget runs (its cost is measured) but never refuses a benchmark's thousands.
        "PORTICO_GRAPHQL_POINTS_PER_HOUR": "1000000000",
        **(env or {}),
        **more,
    }
    replica = Server(full, var_dir / f"serve-{time.monotonic_ns()}.log")
    try:
        await replica.ready()
        yield replica
    finally:
        replica.stop()


async def new_account(svc: Services) -> tuple[Caller, str]:
    """A fresh account: its Caller and its Authorization header."""
    owner = await tenant(svc, name="bench")
    return owner.caller, owner.authorization


def client(replica: Server, authorization: str, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=replica.url,
        headers={"Authorization": authorization},
        timeout=60,
        **kw,
    )


@dataclass
class Series:
    """Latencies (seconds) of one kind of request, and the SQL statements each ran."""

    times: list[float]
    statements: list[int]
    elapsed: float = 0.0  # wall time the series' requests took, summed

    @classmethod
    def empty(cls) -> Series:
        return cls([], [])

    def add(self, seconds: float, response: httpx.Response) -> None:
        self.times.append(seconds)
        self.elapsed += seconds
        if SQL_HEADER in response.headers:
            self.statements.append(int(response.headers[SQL_HEADER]))

    @property
    def p50_ms(self) -> float:
        return percentile(self.times, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.times, 99) * 1000

    @property
    def rps(self) -> float:
        return len(self.times) / self.elapsed if self.elapsed else 0.0

    @property
    def sql(self) -> float:
        return max(self.statements) if self.statements else float("nan")


async def timed(series: Series, send: Any) -> httpx.Response:
    started = time.perf_counter()
    response: httpx.Response = await send()
    series.add(time.perf_counter() - started, response)
    response.raise_for_status()
    return response


_numbers = itertools.count()


def number() -> str:
    """Distinct valid US numbers (+1 415 555 2000..9999, then +1 212 555 2000..9999, ...)."""
    n = next(_numbers)
    area = ("415", "212", "646", "312", "617", "206")[n // 8000]
    return f"+1{area}555{2000 + n % 8000:04d}"


class LeanClient:
    """A keep-alive HTTP/1.1 client of a few lines (asyncio streams, one request at a time on
    one connection) for the load of a case whose clients share the machine's cores with the
    servers: httpx costs about 0.9 ms of CPU per request, which the servers then lack. It
    sends JSON POSTs and reads answers with a Content-Length, which is all uvicorn sends to
    them; anything else is an error."""

    def __init__(self, replica: Server, authorization: str) -> None:
        self.port = replica.port
        self.authorization = authorization
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> LeanClient:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: {self.authorization}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self._writer.write(head.encode() + body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("an answer without Content-Length")
        return status, await self._reader.readexactly(length)
