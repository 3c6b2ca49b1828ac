"""The `graphql-ws` npm client under Node (graphql-transport-ws) against real uvicorn:
connect with credentials in connectionParams, subscribe, receive a change made through a
mutation, complete. The client is tests/subscriptions/node/subscribe.mjs; its packages are
pinned by package-lock.json and installed with `npm ci` when node_modules is missing."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.services import port_orders
from app.services.context import Services
from app.store import queries
from tests.builders import Tenant, order_input
from tests.subscriptions.support import CANCEL, ORDER_EVENTS, WAIT, Live, until

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def node() -> str:
    exe = shutil.which("node")
    if exe is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required on CI (Node 20)")
        pytest.skip("node/npm not installed")
    if not (NODE_DIR / "node_modules" / "graphql-ws").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    return exe


async def read_line(stream: asyncio.StreamReader) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        line = await stream.readline()
    assert line, "the node client ended early"
    return dict(json.loads(line))


async def test_graphql_ws_npm_client_receives_a_change_and_completes(
    node: str, live: Live, svc: Services, alice: Tenant
) -> None:
    # Given an order, and the cursor of its newest event (so no change can slip between).
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with svc.db.read() as s:
        cursor = str(await queries.last_event_id(s))
    job = {
        "url": live.ws_url,
        "authorization": alice.authorization,
        "query": ORDER_EVENTS,
        "variables": {"sid": order.sid, "after": cursor},
        "count": 1,
    }
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "subscribe.mjs"),
        json.dumps(job),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert await read_line(proc.stdout) == {"connected": True}

        # When the order is canceled through the GraphQL mutation.
        await live.graphql(CANCEL, {"sid": order.sid}, as_=alice)

        # Then the node client gets the event, completes, and closes cleanly.
        result = (await read_line(proc.stdout))["next"]
        assert "errors" not in result
        event = result["data"]["portOrderStatusChanged"]
        assert event["portOrderSid"] == order.sid
        assert event["status"] == "CANCELED" and event["callbackType"] == ["STATUS_UPDATE"]
        assert int(event["cursor"]) > int(cursor)
        assert event["portOrder"] == {"sid": order.sid, "status": "CANCELED"}
        rest = [await read_line(proc.stdout) for _ in range(2)]
        assert {"done": True} in rest
        assert {"closed": {"code": 1000, "reason": "Normal Closure"}} in rest
        async with asyncio.timeout(WAIT):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    await until(lambda: svc.hub.subscriber_count == 0 and len(live.app_sockets) == 0)
