"""The floor case: what a perfect server would still pay for the read page, in process: the
same 50 rows read with one plain SQL query (sqlite3, no ORM) and serialised with the standard
library's json. No HTTP, no auth, no framework."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Any

from tests.bench.harness import Options, percentile, sqlite_database, workdir
from tests.bench.read import PAGE, seed_orders

DESCRIPTION = "50 orders: one SQL query + json.dumps in process (the floor under the ratios)"

SQL = """
SELECT o.*, l.sid AS l_sid, l.status AS l_status FROM port_orders o
JOIN loas l ON l.sid = o.loa_sid
WHERE o.account_sid IN (SELECT sid FROM accounts) ORDER BY o.id DESC LIMIT ?
"""


def one_page(conn: sqlite3.Connection) -> str:
    cur = conn.execute(SQL, (PAGE,))
    names = [d[0] for d in cur.description]
    rows: list[dict[str, Any]] = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    for row in rows:
        row.pop("secrets_enc", None)
        row["cc_emails"] = json.loads(row["cc_emails"])
    return json.dumps({"orders": rows}, separators=(",", ":"))


def run(options: Options) -> dict[str, float]:
    rounds = 300 if options.quick else 2000
    with workdir() as where:
        url = sqlite_database(where)
        asyncio.run(seed_orders(url, where, PAGE))
        path = url.split("///", 1)[1]
        conn = sqlite3.connect(path)
        try:
            assert len(json.loads(one_page(conn))["orders"]) == PAGE
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                one_page(conn)
                times.append(time.perf_counter() - started)
        finally:
            conn.close()
    return {
        "floor.p50_ms": percentile(times, 50) * 1000,
        "floor.p99_ms": percentile(times, 99) * 1000,
    }
