"""Real processes: `portico serve` killed mid-delivery, and two `portico worker`s sharing
PostgreSQL. Nothing is lost; nothing delivered is sent twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.services import port_orders
from app.services.context import Services
from app.store import queries
from app.wiring import build_services
from tests.builders import order_input, tenant
from tests.conftest import SECRET
from tests.delivery.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update(
        PORTICO_DATABASE_URL=database_url,
        PORTICO_SECRET_KEY=SECRET,
        PORTICO_VAR_DIR=str(tmp_path / "var"),
        PORTICO_CALLBACK_ALLOWED_NETWORKS="127.0.0.0/8",
        PORTICO_CALLBACK_RETRY_SCHEDULE="0.2,0.2,0.2",
        PORTICO_DELIVERY_POLL_SECONDS="0.05",
        PORTICO_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _until(predicate, what: str, limit: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        await asyncio.sleep(0.05)


async def _count(svc: Services, state: str | None = None) -> int:
    async with svc.db.read() as s:
        return await queries.count_deliveries(s, state=state, channel="callback")


async def _callback_sids(svc: Services) -> set[str]:
    async with svc.db.read() as s:
        last = await queries.last_event_id(s)
        out: set[str] = set()
        for e in await queries.events_after(s, 0, last + 1):
            assert e.id is not None
            rows = await queries.deliveries_of_event(s, e.id)
            out |= {d.sid for d in rows if d.channel == "callback"}
        return out


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_killed_server_delivers_everything_after_a_restart(
    sqlite_database: str, tmp_path: Path
) -> None:
    release = threading.Event()

    def hang_until_released(_req) -> int:  # type: ignore[no-untyped-def]
        release.wait(timeout=30)
        return 200

    receiver = Receiver(answer=hang_until_released).start()
    port = _free_port()
    env = _env(
        sqlite_database,
        tmp_path,
        PORTICO_PORT=str(port),
        PORTICO_DELIVERY_CONCURRENCY="4",
        PORTICO_DELIVERY_LEASE_SECONDS="1",
    )
    settings = Settings(database_url=sqlite_database, secret_key=SECRET, var_dir=tmp_path / "var")
    svc = build_services(settings)
    server = None
    try:
        who = await tenant(svc)
        for i in range(10):
            url = receiver.url(f"/cb/{i}")
            await port_orders.create_port_order(svc, who.caller, order_input(status_callback=url))
        assert await _count(svc, "pending") == 20

        server = _spawn(["serve", "--no-migrate"], env, tmp_path / "serve1.log")

        async def two_in_flight() -> bool:
            assert server is not None and server.poll() is None, "server died"
            return len(receiver.received) >= 2

        await _until(two_in_flight, "the server to start sending")
        server.kill()  # SIGKILL: no shutdown, leases held, sends in flight
        server.wait()
        assert await _count(svc, "pending") == 20  # nothing was recorded as delivered

        receiver.answer = lambda _req: 200
        release.set()
        server = _spawn(["serve", "--no-migrate"], env, tmp_path / "serve2.log")

        async def all_delivered() -> bool:
            assert server is not None and server.poll() is None, "server died"
            return await _count(svc, "delivered") == 20

        await _until(all_delivered, "every callback to be delivered after the restart")
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert health.json() == {"status": "ok"}
    finally:
        if server is not None:
            _stop(server)
        receiver.stop()
        await svc.close()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    # Each callback arrived; those in flight at the kill arrived twice, with the same id.
    assert len(set(ids)) == 20
    assert 22 <= len(ids) <= 24


@pytest.mark.postgres
async def test_two_workers_on_postgres_deliver_200_callbacks_exactly_once(
    pg_database: str, tmp_path: Path
) -> None:
    receiver = Receiver(delay=0.01).start()
    env = _env(pg_database, tmp_path)
    settings = Settings(database_url=pg_database, secret_key=SECRET, var_dir=tmp_path / "var")
    svc = build_services(settings)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [
        _spawn(["worker", "--no-migrate", "--name", name, "--concurrency", "4"], env, log)
        for name, log in zip(("a", "b"), logs, strict=True)
    ]
    try:

        async def both_started() -> bool:
            assert all(w.poll() is None for w in workers), "a worker died"
            return all("started" in log.read_text() for log in logs)

        await _until(both_started, "both workers to start")
        who = await tenant(svc)

        async def create(i: int) -> None:
            raw = order_input(status_callback=receiver.url(f"/cb/{i}"))
            await port_orders.create_port_order(svc, who.caller, raw)

        for chunk in range(0, 100, 5):
            await asyncio.gather(*(create(i) for i in range(chunk, chunk + 5)))
        assert await _count(svc) == 200

        async def all_delivered() -> bool:
            assert all(w.poll() is None for w in workers), "a worker died"
            return await _count(svc, "delivered") == 200

        await _until(all_delivered, "200 callbacks to be delivered")
        expected = await _callback_sids(svc)
        async with svc.db.read() as s:
            attempts = await queries.attempts_by_delivery(s, list(range(1, 2000)))
    finally:
        for w in workers:
            _stop(w)
        receiver.stop()
        await svc.close()
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(ids) == expected and len(expected) == 200
    assert set(ids.values()) == {1}  # each delivered once, by exactly one worker
    assert sum(len(a) for a in attempts.values()) == 200 + 100  # callbacks + status mails
    per_worker = [log.read_text().count("): delivered") for log in logs]
    assert sum(per_worker) == 200
    assert all(n > 0 for n in per_worker), per_worker  # both took part
    bodies = {json.loads(r.body)["status"] for r in receiver.received}
    assert bodies == {"CREATED", "PENDING"}
