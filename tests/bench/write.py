"""The write case: `createPortOrder` over GraphQL from concurrent clients (one keep-alive
connection each: tests.bench.serving.LeanClient, which leaves the shared cores to the servers)
against `portico serve`: orders per second, p50/p99 latency and the server's CPU time per
create, on SQLite and on PostgreSQL (each a fresh database for the run).

- `write.sqlite_*`, `write.postgres_*`: 16 clients, one replica.
- `write.postgres_rps_two_replicas`: the same 16 clients split over two replicas of one
  PostgreSQL database; `write.postgres_two_replicas_ratio` (two / one) beside
  `write.postgres_machine_busy_pct` and `_two_replicas`: the share of the machine's cores busy
  during each phase (clients, servers and PostgreSQL share them: a machine already busy with
  one replica has no room for a second to add to).
- `write.sqlite_machine_busy_pct`, `write.postgres_machine_busy_pct`: that share in the
  one-replica phases; `write.*_client_cpu_ms`: the benchmark's own clients' CPU per create
  (they run on the same cores).
- `write.postgres_rtt20_rps_1` / `_16`: every write transaction waits 20 ms inside itself
  (PORTICO_DEBUG_WRITE_DELAY_MS, as a distant database's round trip would), with 1 and with 16
  clients: writers that waited for each other would stay near 1x; `write.postgres_rtt20_ratio`;
  and the 16 clients over two replicas (`write.postgres_rtt20_rps_16_two_replicas`,
  `write.postgres_rtt20_two_replicas_ratio`), where the round trips, not the machine's cores,
  bound one replica.
- `write.floor_rps`: the floor, the same rows (the order, its two events, its status mail's
  delivery; the LOA is the group's, read by its key) inserted by plain SQL (asyncpg), one
  transaction per create, from the same 16 clients; `write.floor_ratio` = floor / ours.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from app.store.pgbus import asyncpg_dsn
from app.wiring import build_services
from tests.bench.harness import (
    Options,
    busy_share,
    cpu_seconds,
    machine_ticks,
    postgres_available,
    postgres_database,
    settings_for,
    sqlite_database,
    workdir,
)
from tests.bench.serving import LeanClient, Series, Server, new_account, number, server

DESCRIPTION = (
    "createPortOrder over GraphQL: 16 clients on SQLite and PostgreSQL, two replicas, a 20 ms "
    "round trip inside each write (1 vs 16 clients), and the plain-SQL floor"
)

CLIENTS = 16
RTT_MS = 20
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


async def measure(
    url: str,
    var_dir: Path,
    per_client: int,
    *,
    clients: int = CLIENTS,
    replicas: int = 1,
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    svc = build_services(settings_for(url, var_dir))
    try:
        _, authorization = await new_account(svc)
    finally:
        await svc.close()
    series = Series.empty()

    async with Replicas(url, var_dir, replicas, env or {}) as servers:

        async def one_client(replica: Server, n: int) -> None:
            async with LeanClient(replica, authorization) as http:
                for _ in range(n):
                    body = json.dumps({"query": MUTATION, "variables": {"input": _input()}})
                    started = time.perf_counter()
                    status, answer = await http.post_json("/graphql", body.encode())
                    series.times.append(time.perf_counter() - started)
                    data = json.loads(answer)
                    payload = data["data"]["createPortOrder"]
                    assert status == 200 and not data.get("errors"), data
                    assert not payload["userErrors"], data

        def run_all(n: int) -> list[asyncio.Future[None]]:
            targets = itertools.cycle(servers)
            return [asyncio.ensure_future(one_client(next(targets), n)) for _ in range(clients)]

        await asyncio.gather(*run_all(3))  # warm-up
        series = Series.empty()
        cpu_before = sum(cpu_seconds(s.proc.pid) for s in servers)
        machine_before = machine_ticks()
        client_before = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*run_all(per_client))
        wall = time.perf_counter() - started
        machine = busy_share(machine_before, machine_ticks())
        client_cpu = time.process_time() - client_before
        cpu = sum(cpu_seconds(s.proc.pid) for s in servers) - cpu_before
    count = len(series.times)
    return {
        "rps": count / wall,
        "p50_ms": series.p50_ms,
        "p99_ms": series.p99_ms,
        "cpu_ms": cpu / count * 1000,
        "machine_busy_pct": machine,
        "client_cpu_ms": client_cpu / count * 1000,  # the benchmark's own clients' share
    }


class Replicas:
    """`replicas` servers on one database, started together, stopped together."""

    def __init__(self, url: str, var_dir: Path, replicas: int, env: dict[str, str]):
        self._cms = [server(url, var_dir, env=env) for _ in range(replicas)]

    async def __aenter__(self) -> list[Server]:
        return [await cm.__aenter__() for cm in self._cms]

    async def __aexit__(self, *exc: object) -> None:
        for cm in reversed(self._cms):
            await cm.__aexit__(None, None, None)


# --- the floor ---------------------------------------------------------------------------------

_ORDER = """
INSERT INTO port_orders (sid, account_sid, loa_sid, number, active_number, friendly_name, status,
  port_type, iso_country, region, city, postal_code, street, first_name, last_name, email,
  cc_emails, version, earliest_activation_date, date_created, date_updated)
VALUES ($1, $2, $3, $4, $4, $4, 'PENDING', 'LANDLINE', 'US', 'CA', 'San Francisco', '94107',
  '645 Harrison St', 'James', 'Smith', 'james.smith@example.com', '[]', 2, $5, $5, $5)
"""
_EVENT = """
INSERT INTO events (resource_type, resource_sid, account_sid, type, payload, actor, date_created)
VALUES ('port_order', $1, $2, $3, $4, 'service', $5) RETURNING id
"""
_DELIVERY = """
INSERT INTO deliveries (sid, event_id, account_sid, port_order_sid, loa_sid, channel, target, kind,
  state, attempts, next_attempt_at, date_created, date_updated)
VALUES ($1, $2, $3, $4, $5, 'email', 'james.smith@example.com', 'status_update', 'pending', 0,
  $6, $6, $6)
"""


async def floor(url: str, var_dir: Path, per_client: int) -> float:
    """Creates per second when each is nothing but its rows, in one transaction."""
    svc = build_services(settings_for(url, var_dir))
    try:
        owner, _ = await new_account(svc)
    finally:
        await svc.close()
    account = owner.sid
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=CLIENTS, max_size=CLIENTS)
    loa_sid = "PX" + secrets.token_hex(16)
    now = datetime.now(UTC).replace(tzinfo=None)
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO loas (sid, account_sid, status, first_name, last_name, email,"
            " iso_country, region, city, postal_code, street, port_type, open_group_key,"
            " version, date_created, date_updated) VALUES ($1, $2, 'open', 'James', 'Smith',"
            " 'james.smith@example.com', 'US', 'CA', 'San Francisco', '94107',"
            " '645 Harrison St', 'LANDLINE', $3, 1, $4, $4)",
            loa_sid,
            account,
            secrets.token_hex(32),
            now,
        )

    async def one(conn: asyncpg.Connection) -> None:
        sid = "PO" + secrets.token_hex(16)
        at = datetime.now(UTC).replace(tzinfo=None)
        payload = json.dumps({"port_order_sid": sid, "status": "PENDING"})
        async with conn.transaction():
            await conn.fetchval("SELECT id FROM loas WHERE sid = $1", loa_sid)
            await conn.execute(_ORDER, sid, account, loa_sid, number(), at)
            await conn.fetchval(_EVENT, sid, account, "port_order.created", payload, at)
            event = await conn.fetchval(
                _EVENT, sid, account, "port_order.status_changed", payload, at
            )
            await conn.execute(
                _DELIVERY, "DL" + secrets.token_hex(16), event, account, sid, loa_sid, at
            )

    async def worker(n: int) -> None:
        async with pool.acquire() as conn:
            for _ in range(n):
                await one(conn)

    try:
        await asyncio.gather(*(worker(3) for _ in range(CLIENTS)))  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(worker(per_client) for _ in range(CLIENTS)))
        return CLIENTS * per_client / (time.perf_counter() - started)
    finally:
        await pool.close()


def run(options: Options) -> dict[str, float]:
    per_client = 15 if options.quick else 60
    rtt_per_client = 10 if options.quick else 30
    figures: dict[str, float] = {}
    delay = {"PORTICO_DEBUG_WRITE_DELAY_MS": str(RTT_MS)}
    with workdir() as where:
        url = sqlite_database(where)
        for k, v in asyncio.run(measure(url, where, per_client)).items():
            figures[f"write.sqlite_{k}"] = v
        if postgres_available():
            with postgres_database() as pg_url:
                for k, v in asyncio.run(measure(pg_url, where, per_client)).items():
                    figures[f"write.postgres_{k}"] = v
                two = asyncio.run(measure(pg_url, where, per_client, replicas=2))
                figures["write.postgres_rps_two_replicas"] = two["rps"]
                figures["write.postgres_cpu_ms_two_replicas"] = two["cpu_ms"]
                figures["write.postgres_two_replicas_ratio"] = (
                    two["rps"] / figures["write.postgres_rps"]
                )
                figures["write.postgres_machine_busy_pct_two_replicas"] = two["machine_busy_pct"]
                one_client = asyncio.run(
                    measure(pg_url, where, rtt_per_client * 4, clients=1, env=delay)
                )
                many = asyncio.run(measure(pg_url, where, rtt_per_client, env=delay))
                figures["write.postgres_rtt20_rps_1"] = one_client["rps"]
                figures["write.postgres_rtt20_rps_16"] = many["rps"]
                figures["write.postgres_rtt20_ratio"] = many["rps"] / one_client["rps"]
                figures["write.postgres_rtt20_machine_busy_pct_16"] = many["machine_busy_pct"]
                two_rtt = asyncio.run(measure(pg_url, where, rtt_per_client, replicas=2, env=delay))
                figures["write.postgres_rtt20_rps_16_two_replicas"] = two_rtt["rps"]
                figures["write.postgres_rtt20_two_replicas_ratio"] = two_rtt["rps"] / many["rps"]
                figures["write.postgres_rtt20_machine_busy_pct_16_two_replicas"] = two_rtt[
                    "machine_busy_pct"
                ]
                figures["write.floor_rps"] = asyncio.run(floor(pg_url, where, per_client))
                figures["write.floor_ratio"] = (
                    figures["write.floor_rps"] / figures["write.postgres_rps"]
                )
    return figures
