"""The subscriptions case: N websocket subscribers, one status change, commit-to-client latency.

- One replica: `portico serve` on SQLite (memory bus), N subscribers (graphql-transport-ws,
  raw `websockets` connections from this one asyncio process), all on one order; the order is
  canceled through the GraphQL mutation over HTTP; each subscriber's receive time minus the
  commit time gives its latency. Commit time: the event's `date_created` from the database
  (microseconds; the writer's clock at the start of its transaction, a few ms before the commit,
  so the figures slightly overstate). Resident memory per subscriber: the server's VmRSS after
  the N subscribed minus before, over N.
- Two replicas: the same on PostgreSQL (LISTEN/NOTIFY), subscribers split evenly, the change
  made through replica A.

Each subscriber asks for `cursor status portOrder { status }`: the payload and a fresh read of
the order, as a status screen would.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.bench.harness import (
    Options,
    Seed,
    env_for,
    event_time,
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
from tests.subscriptions.support import CANCEL, Replica

DESCRIPTION = (
    "N websocket subscribers, one status change: commit-to-client latency p50/p99 on one "
    "replica (SQLite) and two (PostgreSQL), resident memory per subscriber"
)
SUBSCRIBERS = 2000
QUICK_SUBSCRIBERS = 1000
OPENING_AT_ONCE = 50
SETTLE = 2.0  # seconds for the last subscriptions to register before the change
QUERY = """subscription($sid: ID, $after: String) {
  portOrderStatusChanged(sid: $sid, after: $after) { cursor status portOrder { status } }
}"""


class Subscriber:
    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.received: asyncio.Future[tuple[float, str]] = (
            asyncio.get_running_loop().create_future()
        )
        self._reader: asyncio.Task[None] | None = None

    async def open(self, ws_url: str, s: Seed) -> None:
        self.ws = await connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=60)  # type: ignore[list-item]
        await self.ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": s.authorization}})
        )
        ack = json.loads(await self.ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"not acknowledged: {ack}")
        variables = {"sid": s.order_sid, "after": s.cursor}
        await self.ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": QUERY, "variables": variables},
                }
            )
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next" and not self.received.done():
                at = time.time()
                event = message["payload"]["data"]["portOrderStatusChanged"]
                self.received.set_result((at, event["cursor"]))
            elif message["type"] == "error" and not self.received.done():
                self.received.set_exception(RuntimeError(str(message)))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()


async def open_all(urls: list[str], s: Seed, n: int) -> list[Subscriber]:
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    subs = [Subscriber() for _ in range(n)]

    async def one(i: int, sub: Subscriber) -> None:
        async with gate:
            await sub.open(urls[i % len(urls)], s)

    await asyncio.gather(*(one(i, sub) for i, sub in enumerate(subs)))
    return subs


async def warm_up(ws_url: str, s: Seed) -> None:
    """One subscriber first, so code paths and caches exist before memory is measured."""
    sub = Subscriber()
    await sub.open(ws_url, s.__class__(s.authorization, s.order_sid, "0"))
    await asyncio.wait_for(sub.received, 30)
    await sub.close()


async def measure(replicas: list[Replica], s: Seed, n: int, settings: Any) -> dict[str, float]:
    urls = [r.live.ws_url for r in replicas]
    for url in urls:
        await warm_up(url, s)
    await asyncio.sleep(0.5)
    pids = [r.proc.pid for r in replicas]
    rss_before = [rss_kb(pid) for pid in pids]
    subs = await open_all(urls, s, n)
    await asyncio.sleep(SETTLE)
    rss_after = [rss_kb(pid) for pid in pids]
    # The measuring client's own collector stays out of the window it measures.
    gc.collect()
    gc.disable()
    try:
        async with httpx.AsyncClient(base_url=replicas[0].live.http_url, timeout=60) as http:
            response = await http.post(
                "/graphql",
                json={"query": CANCEL, "variables": {"sid": s.order_sid}},
                headers={"Authorization": s.authorization},
            )
        body = response.json()
        assert body["data"]["cancelPortOrder"]["portOrder"]["status"] == "CANCELED", body
        received = await asyncio.wait_for(asyncio.gather(*(sub.received for sub in subs)), 120)
    finally:
        gc.enable()
        await asyncio.gather(*(sub.close() for sub in subs), return_exceptions=True)
    cursors = {cursor for _, cursor in received}
    assert len(cursors) == 1, cursors
    committed = await event_time(settings, cursors.pop())
    latencies = [(at - committed) * 1000 for at, _ in received]
    return {
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "rss_kb_per_subscriber": (sum(rss_after) - sum(rss_before)) / n,
    }


async def with_replicas(database_url: str, where: Path, count: int, n: int) -> dict[str, float]:
    settings = settings_for(database_url, where / "var")
    s = await seed(settings)
    replicas = [
        Replica(env_for(database_url, where / "var"), where / f"serve-{i}.log", "WARNING")
        for i in range(count)
    ]
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        return await measure(replicas, s, n, settings)
    finally:
        for r in replicas:
            r.stop()


def run(options: Options) -> dict[str, float]:
    raise_fd_limit()
    n = QUICK_SUBSCRIBERS if options.quick else SUBSCRIBERS
    figures: dict[str, float] = {"subscriptions.subscribers": n}
    with workdir() as where:
        one = asyncio.run(with_replicas(sqlite_database(where), where, 1, n))
    figures["subscriptions.p50_ms_one_replica"] = one["p50"]
    figures["subscriptions.p99_ms_one_replica"] = one["p99"]
    figures["subscriptions.rss_kb_per_subscriber"] = one["rss_kb_per_subscriber"]
    if postgres_available():
        with workdir() as where, postgres_database() as url:
            two = asyncio.run(with_replicas(url, where, 2, n))
        figures["subscriptions.p50_ms_two_replicas"] = two["p50"]
        figures["subscriptions.p99_ms_two_replicas"] = two["p99"]
    else:
        print("   PostgreSQL not reachable: two-replica figures skipped")
    return figures
