"""`/readyz` of a real `portico serve` on PostgreSQL: 503 with the reasons while the database
is stopped (and it answers at once), 200 again once the database is back and the bus has
reconnected. The database is a private cluster (private_postgres.py), never the shared one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.store.migrate import upgrade
from tests.ops.live import serve, wait_for
from tests.ops.private_postgres import Cluster

# Serial (run alone after the parallel part of scripts/test):
# readiness checks are bounded to 2 s.
pytestmark = [pytest.mark.postgres, pytest.mark.serial]


def readyz(url: str) -> tuple[int, dict[str, object], float]:
    start = time.monotonic()
    answer = httpx.get(f"{url}/readyz", timeout=10)
    return answer.status_code, answer.json(), time.monotonic() - start


def test_readyz_follows_the_database(private_postgres: Cluster, tmp_path: Path) -> None:
    async def create() -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=private_postgres.port, user="postgres", database="postgres"
        )
        try:
            await conn.execute("CREATE DATABASE portico")
        finally:
            await conn.close()

    asyncio.run(create())
    url = private_postgres.url("portico")
    upgrade(url)
    served = serve(tmp_path, url)
    try:
        status, body, _ = readyz(served.url)
        assert (status, body["status"]) == (200, "ok"), body

        private_postgres.stop()
        status, body, took = wait_for(
            lambda: (r := readyz(served.url))[0] == 503 and r, "/readyz stayed 200"
        )
        assert took < 3  # bounded checks: no hang while the database is down
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks["database"].startswith("unreachable: ")
        assert checks["migrations"].startswith("unknown: ")
        assert checks["bus"].startswith("not listening")
        assert httpx.get(f"{served.url}/healthz", timeout=10).status_code == 503

        private_postgres.start()
        status, body, _ = wait_for(
            lambda: (r := readyz(served.url))[0] == 200 and r, "/readyz never came back"
        )
        assert body["checks"] == {"database": "ok", "migrations": "ok", "bus": "ok"}
    finally:
        assert served.stop() == 0
    (start,) = [line for line in served.lines() if "serving on" in line]
    assert f"database postgresql (127.0.0.1:{private_postgres.port}/portico)" in start
    assert "postgresql+asyncpg://" not in served.log.read_text()
