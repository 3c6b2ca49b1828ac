"""Kill -9 a real `portico serve` while callbacks and mails are leased and in flight to slow
receivers (a loopback HTTP server, aiosmtpd): after a restart on the same database every
delivery arrives at least once, always under its one id (`webhook-id` / Message-ID: the
delivery SID, the same on every try); the ones that used up their attempts are kept as dead,
listed by `portico deliveries dead` and sent again by `portico deliveries retry SID`.

SQLite runs the worker inside the server; PostgreSQL in a child process
(PORTICO_DELIVERY_WORKER_PROCESSES=1), which the SIGKILL must take along."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from app.config import Settings
from app.services import port_orders
from app.services.context import Services
from app.store import queries
from app.wiring import build_services
from tests.builders import order_input, tenant
from tests.conftest import SECRET
from tests.delivery.receiver import Receiver
from tests.delivery.smtp import Inbox
from tests.delivery.test_processes import ROOT, _env, _free_port, _spawn, _stop

MESSAGE_ID = re.compile(r"<([A-Za-z0-9]+)@")


async def _until(what: str, check: Callable[[], Awaitable[bool]], limit: float = 40) -> None:
    async with asyncio.timeout(limit):
        while not await check():  # noqa: ASYNC110 -- the state is in the database
            await asyncio.sleep(0.05)


async def _sids(svc: Services, channel: str) -> dict[str, str]:
    """Every delivery of `channel`: its SID -> its state."""
    async with svc.db.read() as s:
        last = await queries.last_event_id(s)
        out: dict[str, str] = {}
        for e in await queries.events_after(s, 0, last + 1):
            assert e.id is not None
            for d in await queries.deliveries_of_event(s, e.id):
                if d.channel == channel:
                    out[d.sid] = d.state
        return out


def _children_of(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if (
                b"--parent" in cmdline
                and cmdline[cmdline.index(b"--parent") + 1] == str(pid).encode()
            ):
                found.append(int(proc.name))
    return found


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.dialects("sqlite", "postgres")
async def test_killed_server_delivers_everything_after_a_restart_and_dead_ones_can_be_retried(
    database_url: str, tmp_path: Path
) -> None:
    slow = Receiver(delay=0.4).start()  # callbacks stay in flight for a while
    refusing = {"code": 500}
    broken = Receiver(answer=lambda _req: refusing["code"]).start()
    inbox = Inbox(delay=0.3)
    smtp_port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = _env(
        database_url,
        tmp_path,
        PORTICO_PORT=str(_free_port()),
        PORTICO_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        PORTICO_DELIVERY_LEASE_SECONDS="1",
        PORTICO_CALLBACK_TIMEOUT_SECONDS="5",
        PORTICO_SMTP_TIMEOUT_SECONDS="5",
        PORTICO_CALLBACK_RETRY_SCHEDULE="0.1,0.1",
        PORTICO_DELIVERY_CONCURRENCY="8",
        PORTICO_DELIVERY_CONCURRENCY_PER_HOST="4",
        PORTICO_DELIVERY_WORKER_PROCESSES="0" if database_url.startswith("sqlite") else "1",
        PORTICO_SCHEDULER_ENABLED="false",
    )
    settings = Settings(database_url=database_url, secret_key=SECRET, var_dir=tmp_path / "var")
    svc = build_services(settings)
    server = None
    try:
        who = await tenant(svc)
        for i in range(8):
            raw = order_input(status_callback=slow.url(f"/cb/{i}"), email=f"c{i}@example.com")
            await port_orders.create_port_order(svc, who.caller, raw)
        raw = order_input(status_callback=broken.url("/cb/broken"), email="x@example.com")
        await port_orders.create_port_order(svc, who.caller, raw)
        callbacks, mails = await _sids(svc, "callback"), await _sids(svc, "email")
        assert len(callbacks) == 18 and len(mails) == 9

        server = _spawn(["serve", "--no-migrate"], env, tmp_path / "serve1.log")

        async def in_flight() -> bool:
            assert server is not None and server.poll() is None, "server died"
            return len(slow.received) >= 3 and len(inbox.messages) >= 1

        await _until("sends in flight", in_flight)
        server.kill()  # SIGKILL: leases held, sends in flight, nothing shut down
        server.wait()
        first = server.pid
        pending = [s for s, state in (await _sids(svc, "callback")).items() if state == "pending"]
        assert pending, "everything was already delivered: the kill came too late"

        async def orphans_gone() -> bool:
            return not _children_of(first)

        await _until("the killed server's worker processes to stop", orphans_gone, 10)

        server = _spawn(["serve", "--no-migrate"], env, tmp_path / "serve2.log")

        async def settled() -> bool:
            assert server is not None and server.poll() is None, "server died"
            states = {**await _sids(svc, "callback"), **await _sids(svc, "email")}
            return "pending" not in states.values()

        await _until("every delivery to be settled after the restart", settled)
        states = await _sids(svc, "callback")
        dead = sorted(s for s, state in states.items() if state == "failed")
        assert len(dead) == 2 and all(states[s] == "delivered" for s in set(states) - set(dead))
        assert set((await _sids(svc, "email")).values()) == {"delivered"}

        # The dead ones are listed, with their last error, and sent again with the same id.
        listed = _cli(env, "deliveries", "dead", "--json")
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        assert sorted(r["sid"] for r in rows) == dead
        assert all("HTTP 500" in r["last_error"] for r in rows)
        refusing["code"] = 200
        for sid in dead:
            assert _cli(env, "deliveries", "retry", sid).returncode == 0

        async def retried() -> bool:
            states = await _sids(svc, "callback")
            return all(states[s] == "delivered" for s in dead)

        await _until("the retried deliveries to arrive", retried)
        assert len(await _sids(svc, "callback")) == 18  # nothing new: the same deliveries
    finally:
        if server is not None:
            _stop(server)
        slow.stop()
        broken.stop()
        controller.stop()
        await svc.close()
    assert server.returncode == 0
    # Every delivery arrived at least once, always under its own SID; nothing else arrived.
    good = {s for s in callbacks if s not in dead}
    ids = [r.headers["webhook-id"] for r in slow.received]
    assert set(ids) == good
    assert all(
        r.headers["i-twilio-idempotency-token"] == r.headers["webhook-id"] for r in slow.received
    )
    tries = [r.headers["webhook-id"] for r in broken.received]
    assert set(tries) == set(dead) and all(tries.count(s) >= 4 for s in dead)  # 3, the retry
    got = [MESSAGE_ID.search(str(m["Message-ID"])) for m in inbox.messages]
    assert {m.group(1) for m in got if m} == set(mails)
    assert len(ids) >= len(good) and len(inbox.messages) >= len(mails)
