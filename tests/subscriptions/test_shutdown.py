"""Point 6: on SIGTERM a real `portico serve` closes its open sockets with 1012 (service
restart: clients reconnect to another replica) and exits within a few seconds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, order_input
from tests.conftest import SECRET
from tests.subscriptions.support import (
    LEGACY,
    ORDER_EVENTS,
    TRANSPORT_WS,
    Replica,
    data_of,
    raw,
    replica_env,
)

SERVICE_RESTART = 1012
EXIT_WITHIN = 10  # seconds: a hung shutdown fails the test (the server allows itself 5)


@pytest.fixture
def replica(database_url: str, tmp_path: Path) -> Iterator[Replica]:
    r = Replica(replica_env(database_url, tmp_path / "var", SECRET), tmp_path / "serve.log")
    try:
        yield r
    finally:
        r.stop()


async def test_sigterm_closes_open_sockets_with_1012_and_exits(
    replica: Replica, svc: Services, alice: Tenant
) -> None:
    await replica.ready()
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with contextlib.AsyncExitStack() as stack:
        # Given a subscriber on each protocol, and a socket that has not said connection_init.
        subscribers = [
            await stack.enter_async_context(raw(replica.live, p)) for p in (LEGACY, TRANSPORT_WS)
        ]
        for conn in subscribers:
            await conn.init({"Authorization": alice.authorization})
            await conn.subscribe("1", ORDER_EVENTS, {"sid": order.sid, "after": "0"})
            event = data_of(await conn.recv_data())["portOrderStatusChanged"]
            assert event["status"] == "CREATED"
        idle = await stack.enter_async_context(raw(replica.live, TRANSPORT_WS))

        # When the replica is told to stop.
        replica.terminate()

        # Then every socket is closed with 1012, and the process exits on its own.
        codes = [(await conn.closed())[0] for conn in (*subscribers, idle)]
    assert codes == [SERVICE_RESTART] * 3
    assert await asyncio.to_thread(replica.proc.wait, EXIT_WITHIN) == 0
    log = replica.log_path.read_text()
    assert "closed 3 websocket(s) with 1012" in log
    assert "Application shutdown complete" in log and "Finished server process" in log
    assert "Traceback" not in log and "ERROR" not in log


def test_exits_cleanly_with_no_socket_open(replica: Replica) -> None:
    asyncio.run(replica.ready())
    replica.terminate()
    assert replica.proc.wait(EXIT_WITHIN) == 0
    assert "Application shutdown complete" in replica.log_path.read_text()
