"""The auth case: `{ __typename }` over GraphQL with credentials, on one `portico serve`
(SQLite), with verified credentials remembered (PORTICO_AUTH_CACHE_SECONDS=5, the default) and
not (0): server CPU time per request (process user+system time / requests) and p50, for an
account's auth token (Basic) and an access token (Bearer). The figures of one run are compared
with each other only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from app.wiring import build_services
from tests.bench.harness import Options, cpu_seconds, settings_for, sqlite_database, workdir
from tests.bench.serving import Series, client, new_account, server, timed

DESCRIPTION = "{ __typename } with Basic and Bearer credentials: CPU-ms per request, cached or not"
TYPENAME = {"query": "{ __typename }"}


async def seed(database_url: str, var_dir: Path) -> str:
    svc = build_services(settings_for(database_url, var_dir))
    try:
        _, authorization = await new_account(svc)
    finally:
        await svc.close()
    return authorization


async def one(
    url: str, where: Path, authorization: str, cache: str, rounds: int
) -> dict[str, float]:
    async with server(url, where, PORTICO_AUTH_CACHE_SECONDS=cache) as replica:
        async with httpx.AsyncClient(base_url=replica.url, timeout=60) as http:
            minted = await http.post(
                "/porting/AccessTokens", headers={"Authorization": authorization}
            )
            bearer = f"Bearer {minted.json()['token']}"
        out: dict[str, float] = {}
        for name, header in (("basic", authorization), ("bearer", bearer)):
            async with client(replica, header) as http:
                for _ in range(20):  # warm-up
                    await http.post("/graphql", json=TYPENAME)
                series = Series.empty()
                before = cpu_seconds(replica.proc.pid)
                for _ in range(rounds):
                    await timed(series, lambda h=http: h.post("/graphql", json=TYPENAME))
                spent = cpu_seconds(replica.proc.pid) - before
            out[f"auth.{name}_cpu_ms_{'cached' if cache != '0' else 'uncached'}"] = (
                spent / rounds * 1000
            )
            out[f"auth.{name}_p50_ms_{'cached' if cache != '0' else 'uncached'}"] = series.p50_ms
        return out


async def measure(url: str, where: Path, authorization: str, rounds: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    for cache in ("0", "5"):
        figures.update(await one(url, where, authorization, cache, rounds))
    figures["auth.basic_cpu_ratio"] = (
        figures["auth.basic_cpu_ms_cached"] / figures["auth.basic_cpu_ms_uncached"]
    )
    return figures


def run(options: Options) -> dict[str, float]:
    rounds = 300 if options.quick else 1500
    with workdir() as where:
        url = sqlite_database(where)
        authorization = asyncio.run(seed(url, where))
        return asyncio.run(measure(url, where, authorization, rounds))
