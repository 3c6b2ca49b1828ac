"""The depth case: the first page of orders against a page after the 1,000,000th, over HTTP
(REST list, PageSize=50), p50 latency ratio, on SQLite and PostgreSQL.

The million orders are written straight into the tables with bulk inserts (executemany on
SQLite, COPY on PostgreSQL), once: the SQLite file var/bench/depth.db and the PostgreSQL
database `portico_bench_depth` are kept and reused while they hold enough rows (the account's
credentials are kept next to them in var/bench/depth-<dialect>.json). --quick measures at
100,000 rows (fewer to seed the first time); it reuses a bigger database when one exists.
The row count measured is printed and reported as depth.<dialect>_rows.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from app.store.migrate import upgrade
from app.wiring import build_services
from tests.bench.harness import (
    Options,
    _admin,
    _pg,
    postgres_available,
    settings_for,
)
from tests.bench.serving import Series, client, new_account, server, timed

DESCRIPTION = "first page vs the page after the 1,000,000th order (REST, p50 ratio), both DBs"

BASE = Path("var/bench")
PG_NAME = "portico_bench_depth"
PAGE = 50
BATCH = 50_000
COLUMNS = [
    "sid",
    "account_sid",
    "loa_sid",
    "number",
    "active_number",
    "friendly_name",
    "status",
    "port_type",
    "iso_country",
    "region",
    "city",
    "postal_code",
    "street",
    "company_name",
    "first_name",
    "last_name",
    "email",
    "cc_emails",
    "version",
    "date_created",
    "date_updated",
]


def _rows(account_sid: str, loa_sid: str, start: int, stop: int) -> Iterator[tuple[Any, ...]]:
    when = datetime(2026, 1, 1)  # naive UTC, as the tables store it
    for i in range(start, stop):
        yield (
            f"PO{i:032x}", account_sid, loa_sid, f"+1415555{i % 10000:04d}", None,
            f"Order {i}", "completed", "LOCAL", "US", "CA", "San Francisco", "94107",
            "645 Harrison St", None, "James", "Smith", "james.smith@example.com", "[]", 1,
            when, when,
        )  # fmt: skip


def _progress(dialect: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    print(
        f"   seeding {dialect}: {done:,}/{total:,} orders ({rate:,.0f}/s)",
        file=sys.stderr,
        flush=True,
    )


def _loa_row(account_sid: str) -> dict[str, Any]:
    when = datetime(2026, 1, 1)
    return {
        "sid": "PX" + "0" * 32,
        "account_sid": account_sid,
        "status": "signed",
        "first_name": "James",
        "last_name": "Smith",
        "email": "james.smith@example.com",
        "iso_country": "US",
        "region": "CA",
        "city": "San Francisco",
        "postal_code": "94107",
        "street": "645 Harrison St",
        "port_type": "LOCAL",
        "version": 1,
        "date_created": when,
        "date_updated": when,
    }


# --- the kept databases ---------------------------------------------------------------------


def _creds_path(dialect: str) -> Path:
    return BASE / f"depth-{dialect}.json"


async def _account(url: str) -> dict[str, str]:
    svc = build_services(settings_for(url, BASE))
    try:
        caller, authorization = await new_account(svc)
    finally:
        await svc.close()
    return {"account_sid": caller.sid, "authorization": authorization}


def _known(dialect: str) -> dict[str, str] | None:
    path = _creds_path(dialect)
    return json.loads(path.read_text()) if path.exists() else None


def sqlite_seeded(rows: int) -> tuple[str, dict[str, str], int]:
    """The SQLite database with at least rows + PAGE orders; (url, account, order count)."""
    path = BASE / "depth.db"
    url = f"sqlite+aiosqlite:///{path}"
    known = _known("sqlite")
    if known is None or not path.exists():
        path.unlink(missing_ok=True)
        BASE.mkdir(parents=True, exist_ok=True)
        upgrade(url)
        known = asyncio.run(_account(url))
        conn = sqlite3.connect(path)
        loa = _loa_row(known["account_sid"])
        conn.execute(
            f"INSERT INTO loas ({','.join(loa)}) VALUES ({','.join('?' * len(loa))})",  # noqa: S608
            [str(v) if isinstance(v, datetime) else v for v in loa.values()],
        )
        conn.commit()
        conn.close()
        _creds_path("sqlite").write_text(json.dumps(known))
    else:
        upgrade(url)  # a database seeded by an earlier version gets the newer migrations
    conn = sqlite3.connect(path)
    try:
        (have,) = conn.execute("SELECT count(*) FROM port_orders").fetchone()
        want = rows + PAGE
        started = time.monotonic()
        seeded = False
        insert = (
            f"INSERT INTO port_orders ({','.join(COLUMNS)})"  # noqa: S608 (constant names)
            f" VALUES ({','.join('?' * len(COLUMNS))})"
        )
        while have < want:
            stop = min(have + BATCH, want)
            conn.executemany(
                insert,
                (
                    tuple(str(v) if isinstance(v, datetime) else v for v in r)
                    for r in _rows(known["account_sid"], "PX" + "0" * 32, have, stop)
                ),
            )
            conn.commit()
            _progress("sqlite", stop, want, started)
            have, seeded = stop, True
        if seeded:
            conn.execute("ANALYZE")
            conn.commit()
    finally:
        conn.close()
    return url, known, have


async def _pg_seed(rows: int) -> tuple[str, dict[str, str], int]:
    sa_url = _pg(PG_NAME).replace("postgresql://", "postgresql+asyncpg://", 1)
    known = _known("postgresql")
    admin = await asyncpg.connect(_pg())
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", PG_NAME)
    finally:
        await admin.close()
    if exists and known is not None:
        # The database is shared by every checkout on this server: is the account ours?
        conn = await asyncpg.connect(_pg(PG_NAME))
        try:
            sid = known["account_sid"]
            ours = await conn.fetchval("SELECT 1 FROM accounts WHERE sid = $1", sid)
        finally:
            await conn.close()
        known = known if ours else None
    if not exists or known is None:
        await _admin(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{PG_NAME}"')
        await asyncio.to_thread(upgrade, sa_url)
        known = await _account(sa_url)
        loa = _loa_row(known["account_sid"])
        conn = await asyncpg.connect(_pg(PG_NAME))
        try:
            await conn.copy_records_to_table(
                "loas", records=[tuple(loa.values())], columns=list(loa)
            )
        finally:
            await conn.close()
        _creds_path("postgresql").write_text(json.dumps(known))
    else:
        await asyncio.to_thread(upgrade, sa_url)  # newer migrations for an older seed
    conn = await asyncpg.connect(_pg(PG_NAME))
    try:
        have = int(await conn.fetchval("SELECT count(*) FROM port_orders"))
        want = rows + PAGE
        started = time.monotonic()
        seeded = False
        while have < want:
            stop = min(have + BATCH, want)
            records = [
                (*r[:17], "[]", *r[18:])
                for r in _rows(known["account_sid"], "PX" + "0" * 32, have, stop)
            ]
            await conn.copy_records_to_table("port_orders", records=records, columns=COLUMNS)
            _progress("postgresql", stop, want, started)
            have, seeded = stop, True
        if seeded:
            await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return sa_url, known, have


# --- measuring ---------------------------------------------------------------------------------


async def measure(url: str, known: dict[str, str], have: int, rounds: int) -> dict[str, float]:
    # The bulk rows' ids follow their index i (oldest first): the order i = PAGE has PAGE older
    # orders, so the page after it is the last full page, `have - PAGE - 1` orders deep.
    cursor = f"PO{PAGE:032x}"
    first_path = "/porting/PortOrders?PageSize=50"
    deep_path = f"/porting/PortOrders?PageSize=50&AfterSid={cursor}"
    async with server(url, BASE) as replica, client(replica, known["authorization"]) as http:
        first, deep = Series.empty(), Series.empty()
        for warm in (True, False):
            for _ in range(5 if warm else rounds):
                f = first if not warm else Series.empty()
                d = deep if not warm else Series.empty()
                await timed(f, lambda: http.get(first_path))
                r = await timed(d, lambda: http.get(deep_path))
        orders = r.json()["orders"]
        assert [o["sid"] for o in orders] == [f"PO{i:032x}" for i in range(PAGE - 1, -1, -1)]
    return {"ratio": deep.p50_ms / first.p50_ms, "first_p50_ms": first.p50_ms,
            "deep_p50_ms": deep.p50_ms}  # fmt: skip


def run(options: Options) -> dict[str, float]:
    rows = 100_000 if options.quick else 1_000_000
    rounds = 60 if options.quick else 200
    figures: dict[str, float] = {}
    url, known, have = sqlite_seeded(rows)
    print(f"   sqlite: {have:,} orders", file=sys.stderr, flush=True)
    for k, v in asyncio.run(measure(url, known, have, rounds)).items():
        figures[f"depth.sqlite_{k}"] = v
    figures["depth.sqlite_rows"] = have
    if postgres_available():
        url, known, have = asyncio.run(_pg_seed(rows))
        print(f"   postgresql: {have:,} orders", file=sys.stderr, flush=True)
        for k, v in asyncio.run(measure(url, known, have, rounds)).items():
            figures[f"depth.postgres_{k}"] = v
        figures["depth.postgres_rows"] = have
    return figures
