"""The write case: `createPortOrder` over GraphQL from 16 concurrent clients (one keep-alive
connection each) against one `portico serve`: orders per second and p99 latency, on SQLite and
on PostgreSQL (each a fresh database for the run)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from app.wiring import build_services
from tests.bench.harness import (
    Options,
    postgres_available,
    postgres_database,
    settings_for,
    sqlite_database,
    workdir,
)
from tests.bench.serving import Series, client, new_account, number, server, timed

DESCRIPTION = "createPortOrder over GraphQL, 16 concurrent clients: orders/s and p99, both DBs"

CLIENTS = 16
MUTATION = """
mutation Create($input: CreatePortOrderInput!) {
  createPortOrder(input: $input) { portOrder { sid status } userErrors { code message } }
}
"""


def _input() -> dict[str, str]:
    return {
        "number": number(),
        "isoCountry": "US",
        "region": "CA",
        "city": "San Francisco",
        "postalCode": "94107",
        "street": "645 Harrison St",
        "firstName": "James",
        "lastName": "Smith",
        "email": "james.smith@example.com",
    }


async def measure(url: str, var_dir: Path, per_client: int) -> dict[str, float]:
    svc = build_services(settings_for(url, var_dir))
    try:
        _, authorization = await new_account(svc)
    finally:
        await svc.close()
    series = Series.empty()

    async with server(url, var_dir) as replica:

        async def one_client(n: int) -> None:
            async with client(replica, authorization) as http:
                for _ in range(n):
                    body = {"query": MUTATION, "variables": {"input": _input()}}
                    r = await timed(series, lambda b=body: http.post("/graphql", json=b))
                    data = r.json()
                    payload = data["data"]["createPortOrder"]
                    assert not data.get("errors") and not payload["userErrors"], data

        await asyncio.gather(*(one_client(3) for _ in range(CLIENTS)))  # warm-up
        series = Series.empty()
        started = time.perf_counter()
        await asyncio.gather(*(one_client(per_client) for _ in range(CLIENTS)))
        wall = time.perf_counter() - started
    return {"rps": len(series.times) / wall, "p50_ms": series.p50_ms, "p99_ms": series.p99_ms}


def run(options: Options) -> dict[str, float]:
    per_client = 15 if options.quick else 60
    figures: dict[str, float] = {}
    with workdir() as where:
        url = sqlite_database(where)
        for k, v in asyncio.run(measure(url, where, per_client)).items():
            figures[f"write.sqlite_{k}"] = v
        if postgres_available():
            with postgres_database() as pg_url:
                for k, v in asyncio.run(measure(pg_url, where, per_client)).items():
                    figures[f"write.postgres_{k}"] = v
    return figures
