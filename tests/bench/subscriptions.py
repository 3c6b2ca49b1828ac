"""The subscriptions case: N websocket subscribers, status changes, commit-to-client latency.

- One replica: `portico serve` on SQLite (memory bus), N subscribers (graphql-transport-ws) all
  on one order; the order is canceled through the GraphQL mutation over HTTP; each subscriber's
  receive time minus the commit time gives its latency. Commit time: the event's `date_created`
  from the database (the writer's clock at the start of its transaction, a few ms before the
  commit, so the figures slightly overstate). Resident memory per subscriber: the server's
  VmRSS after the N subscribed (idle) minus before, over N. Server CPU per event: the server
  process's CPU time (/proc/PID/schedstat) from just before the mutation until every
  subscriber has the event, less nothing (the mutation's own work is in it).
- Two replicas: the same on PostgreSQL (LISTEN/NOTIFY), subscribers split evenly, the change
  made through replica A.
- Mixed: one replica (SQLite), N subscribers over 50 accounts of two orders each: in every
  account half subscribe to its first order, half to all of the account's orders. The first
  order of every account is canceled (50 mutations, one after the other, each sent when the
  previous one answered); each subscriber gets its own
  account's event, and its latency is measured from that event's commit.

The subscribers are tests/bench/ws_clients.py: CLIENT_PROCESSES processes of minimal clients
on uvloop, on the same machine (and cores) as the server; the figures say how many.

Each subscriber asks for `cursor status portOrder { status }`: the payload and a fresh read of
the order, as a status screen would.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import httpx

from app.config import Settings
from app.services import accounts, port_orders
from app.store import queries
from app.wiring import build_services
from tests.bench.harness import (
    Options,
    Seed,
    env_for,
    percentile,
    postgres_available,
    postgres_database,
    raise_fd_limit,
    rss_kb,
    seed,
    settings_for,
    sqlite_database,
    workdir,
)
from tests.bench.ws_clients import ClientPool, Plan, Received
from tests.builders import basic, order_input
from tests.subscriptions.support import CANCEL, Replica

DESCRIPTION = (
    "N websocket subscribers (several client processes), one status change: commit-to-client "
    "latency p50/p99 on one replica (SQLite), two (PostgreSQL) and a mixed case over 50 "
    "accounts; resident memory per subscriber; server CPU per event"
)
SUBSCRIBERS = 5000
QUICK_SUBSCRIBERS = 1000
CLIENT_PROCESSES = 2
MIXED_ACCOUNTS = 50
QUERY = """subscription($sid: ID, $after: String) {
  portOrderStatusChanged(sid: $sid, after: $after) { cursor status portOrder { status } }
}"""


def cpu_ns(pid: int) -> int:
    """Nanoseconds the process has run on a CPU (all its threads)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


async def settle(pids: list[int], quiet_ms: float = 15.0, most: float = 60.0) -> None:
    """Wait until the servers have stopped working (subscriptions registered): less than
    `quiet_ms` of CPU in a quarter second, at least one second in all."""
    started = time.monotonic()
    await asyncio.sleep(1.0)
    while time.monotonic() - started < most:
        before = sum(cpu_ns(p) for p in pids)
        await asyncio.sleep(0.25)
        if (sum(cpu_ns(p) for p in pids) - before) / 1e6 < quiet_ms:
            return


async def warm_up(ws_url: str, s: Seed) -> None:
    """One subscriber first (replaying the log), so code paths and caches exist before memory
    is measured."""
    pool = ClientPool(1)
    try:
        await asyncio.to_thread(
            pool.open, [Plan(ws_url, s.authorization, {"sid": s.order_sid, "after": "0"})], QUERY
        )
        results, _ = await asyncio.to_thread(pool.collect, 1, 30)
        assert results[0], "warm-up subscriber got nothing"
    finally:
        await asyncio.to_thread(pool.close)


async def event_times(settings: Settings, after: str) -> dict[str, float]:
    """Every event after `after`: cursor -> date_created as a UNIX time."""
    svc = build_services(settings)
    try:
        async with svc.db.read() as s:
            events = await queries.events_after(s, int(after), 10_000)
    finally:
        await svc.close()
    return {str(e.id): e.date_created.timestamp() for e in events}


def latencies(results: list[list[Received]], times: dict[str, float]) -> list[float]:
    out = []
    for got in results:
        assert len(got) == 1, got[:3]
        message = got[0].payload
        assert message["type"] in ("next", "data"), message
        event = message["payload"]["data"]["portOrderStatusChanged"]
        assert event["status"] == "CANCELED" and event["portOrder"]["status"] == "CANCELED", event
        out.append((got[0].at - times[event["cursor"]]) * 1000)
    return out


async def cancel(http_url: str, authorization: str, sid: str) -> None:
    async with httpx.AsyncClient(base_url=http_url, timeout=60) as http:
        response = await http.post(
            "/graphql",
            json={"query": CANCEL, "variables": {"sid": sid}},
            headers={"Authorization": authorization},
        )
    body = response.json()
    assert body["data"]["cancelPortOrder"]["portOrder"]["status"] == "CANCELED", body


async def measure(
    replicas: list[Replica],
    plans: list[Plan],
    changes: list[tuple[str, str]],  # (authorization, order sid) to cancel, one after another
    settings: Settings,
    after: str,
    warm: Seed,
) -> dict[str, float]:
    for r in replicas:
        await warm_up(r.live.ws_url, warm)
    await asyncio.sleep(0.5)
    pids = [r.proc.pid for r in replicas]
    pool = ClientPool(CLIENT_PROCESSES)
    try:
        rss_before = [rss_kb(pid) for pid in pids]
        await asyncio.to_thread(pool.open, plans, QUERY)
        await settle(pids)
        rss_after = [rss_kb(pid) for pid in pids]
        await asyncio.to_thread(pool.reset)
        cpu_before = sum(cpu_ns(p) for p in pids)
        for authorization, sid in changes:
            await cancel(replicas[0].live.http_url, authorization, sid)
        results, client_cpu = await asyncio.to_thread(pool.collect, 1, 120)
        cpu_after = sum(cpu_ns(p) for p in pids)
    finally:
        await asyncio.to_thread(pool.close)
    times = await event_times(settings, after)
    ms = latencies(results, times)
    return {
        "p50": percentile(ms, 50),
        "p99": percentile(ms, 99),
        "rss_kb_per_subscriber": (sum(rss_after) - sum(rss_before)) / len(plans),
        "server_cpu_ms_per_event": (cpu_after - cpu_before) / 1e6 / len(changes),
        "client_cpu_ms": client_cpu * 1000,
    }


def start(database_url: str, where: Path, count: int) -> list[Replica]:
    return [
        Replica(env_for(database_url, where / "var"), where / f"serve-{i}.log", "WARNING")
        for i in range(count)
    ]


async def single_order(database_url: str, where: Path, count: int, n: int) -> dict[str, float]:
    settings = settings_for(database_url, where / "var")
    s = await seed(settings)
    replicas = start(database_url, where, count)
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        urls = [r.live.ws_url for r in replicas]
        variables = {"sid": s.order_sid, "after": s.cursor}
        plans = [Plan(urls[i % len(urls)], s.authorization, variables) for i in range(n)]
        return await measure(
            replicas, plans, [(s.authorization, s.order_sid)], settings, s.cursor, s
        )
    finally:
        for r in replicas:
            r.stop()


async def seed_accounts(settings: Settings, count: int) -> tuple[list[tuple[str, str]], str]:
    """`count` accounts of two orders each: (authorization, first order's SID) per account,
    and the newest event's cursor."""
    svc = build_services(settings)
    out = []
    try:
        for i in range(count):
            _, creds = await accounts.create_account(svc, f"bench-{i}", None)
            caller = await accounts.authenticate(svc, creds.sid, creds.secret)
            assert caller is not None
            first = await port_orders.create_port_order(svc, caller, order_input())
            await port_orders.create_port_order(svc, caller, order_input())
            out.append((basic(creds.sid, creds.secret), first.sid))
        async with svc.db.read() as s:
            cursor = await queries.last_event_id(s)
    finally:
        await svc.close()
    return out, str(cursor)


async def mixed(database_url: str, where: Path, n: int) -> dict[str, float]:
    settings = settings_for(database_url, where / "var")
    warm = await seed(settings)
    tenants, cursor = await seed_accounts(settings, MIXED_ACCOUNTS)
    replicas = start(database_url, where, 1)
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        url = replicas[0].live.ws_url
        plans = []
        for i in range(n):
            authorization, sid = tenants[i % len(tenants)]
            one = (i // len(tenants)) % 2 == 0
            variables = {"sid": sid, "after": cursor} if one else {"after": cursor}
            plans.append(Plan(url, authorization, variables))
        kinds = Counter("sid" in p.variables for p in plans)
        assert abs(kinds[True] - kinds[False]) <= len(tenants), kinds
        return await measure(replicas, plans, tenants, settings, cursor, warm)
    finally:
        for r in replicas:
            r.stop()


def run(options: Options) -> dict[str, float]:
    raise_fd_limit()
    n = QUICK_SUBSCRIBERS if options.quick else SUBSCRIBERS
    if options.quick:
        print(f"   --quick: {n} subscribers instead of {SUBSCRIBERS}")
    figures: dict[str, float] = {
        "subscriptions.subscribers": n,
        "subscriptions.client_processes": CLIENT_PROCESSES,
        "subscriptions.client_cores": float(os.cpu_count() or 0),  # shared with the server(s)
    }
    with workdir() as where:
        one = asyncio.run(single_order(sqlite_database(where), where, 1, n))
    figures["subscriptions.p50_ms_one_replica"] = one["p50"]
    figures["subscriptions.p99_ms_one_replica"] = one["p99"]
    figures["subscriptions.rss_kb_per_subscriber"] = one["rss_kb_per_subscriber"]
    figures["subscriptions.server_cpu_ms_per_event"] = one["server_cpu_ms_per_event"]
    figures["subscriptions.client_cpu_ms_one_replica"] = one["client_cpu_ms"]
    with workdir() as where:
        mix = asyncio.run(mixed(sqlite_database(where), where, n))
    figures["subscriptions.p50_ms_mixed"] = mix["p50"]
    figures["subscriptions.p99_ms_mixed"] = mix["p99"]
    figures["subscriptions.mixed_accounts"] = MIXED_ACCOUNTS
    figures["subscriptions.server_cpu_ms_mixed"] = mix["server_cpu_ms_per_event"] * MIXED_ACCOUNTS
    if postgres_available():
        with workdir() as where, postgres_database() as url:
            two = asyncio.run(single_order(url, where, 2, n))
        figures["subscriptions.p50_ms_two_replicas"] = two["p50"]
        figures["subscriptions.p99_ms_two_replicas"] = two["p99"]
    else:
        print("   PostgreSQL not reachable: two-replica figures skipped")
    return figures
