"""The bulk case: `POST /porting/PortRequests` with 1,000 numbers against one `portico serve`, on
SQLite and on PostgreSQL (each a fresh database for the run): the create's latency (median of
a few, after a warm-up; every order's LOA, events, callbacks and mail rows written in its one
transaction), its SQL statements (the server counts them: PORTICO_DEBUG_COUNT_SQL) against a
request of 10 numbers, and a portability check of 1,000 numbers."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from app.wiring import build_services
from tests.bench.harness import (
    Options,
    postgres_available,
    postgres_database,
    settings_for,
    sqlite_database,
    workdir,
)
from tests.bench.serving import SQL_HEADER, client, new_account, number, server
from tests.builders import order_input

DESCRIPTION = "POST /porting/PortRequests with 1,000 numbers: ms and SQL statements, both DBs"

SIZE = 1000


def _request(size: int, signer: str) -> dict[str, Any]:
    shared = {k: v for k, v in order_input().items() if k != "number"}
    return {
        **shared,
        "last_name": signer,  # a group of its own: every request makes its LOA
        "status_callback": "https://example.com/porting/callbacks",
        "numbers": [number() for _ in range(size)],
    }


async def _create(http: httpx.AsyncClient, size: int, signer: str) -> tuple[float, int]:
    body = _request(size, signer)
    started = time.perf_counter()
    r = await http.post("/porting/PortRequests", json=body)
    elapsed = time.perf_counter() - started
    assert r.status_code == 201, r.text[:500]
    assert r.json()["counts"]["PENDING"] == size
    return elapsed * 1000, int(r.headers[SQL_HEADER])


async def measure(url: str, var_dir: Path, runs: int) -> dict[str, float]:
    svc = build_services(settings_for(url, var_dir))
    try:
        _, authorization = await new_account(svc)
    finally:
        await svc.close()
    async with server(url, var_dir) as replica, client(replica, authorization) as http:
        await _create(http, 10, "Warm")
        await _create(http, SIZE, "Warmer")
        _, small = await _create(http, 10, "Small")
        times, statements = [], []
        for i in range(runs):
            ms, sql = await _create(http, SIZE, f"Run {chr(ord('A') + i)}")
            times.append(ms)
            statements.append(sql)
        assert set(statements) == {small}, (small, statements)  # no statement per number
        checks = []
        for _ in range(runs):
            body = {"numbers": [number() for _ in range(SIZE)]}
            started = time.perf_counter()
            r = await http.post("/porting/PortabilityChecks", json=body)
            checks.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200 and len(r.json()["results"]) == SIZE, r.text[:500]
    return {
        "create_1000_ms": statistics.median(times),
        "sql_statements_1000": float(statements[0]),
        "sql_statements_10": float(small),
        "portability_1000_ms": statistics.median(checks),
    }


def run(options: Options) -> dict[str, float]:
    runs = 3 if options.quick else 7
    figures: dict[str, float] = {}
    with workdir() as where:
        lite = asyncio.run(measure(sqlite_database(where), where, runs))
        figures["bulk.create_1000_ms_sqlite"] = lite["create_1000_ms"]
        figures["bulk.sql_statements_1000"] = lite["sql_statements_1000"]
        figures["bulk.sql_statements_10"] = lite["sql_statements_10"]
        figures["bulk.portability_1000_ms"] = lite["portability_1000_ms"]
        if postgres_available():
            with postgres_database() as pg_url:
                pg = asyncio.run(measure(pg_url, where, runs))
            figures["bulk.create_1000_ms_postgres"] = pg["create_1000_ms"]
            figures["bulk.sql_statements_1000_postgres"] = pg["sql_statements_1000"]
            figures["bulk.portability_1000_ms_postgres"] = pg["portability_1000_ms"]
    return figures
