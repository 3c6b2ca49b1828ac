"""Websockets under issue 17's point 1: every message read under PORTICO_GRAPHQL_MAX_BODY_BYTES
(one byte more closes the socket with 1009), decoded by the bounded decoder (absurd JSON
closes a graphql-transport-ws socket with 4400; graphql-ws ignores it, as its protocol says),
and no document parsed before connection_init succeeded (4401, at once, even for the
fan-out fragments), with a /healthz probe meanwhile answering within 100 ms."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.builders import Tenant
from tests.subscriptions.support import LEGACY, PROTOCOLS, TRANSPORT_WS, Live, raw

# Serial (run alone after the parallel part of scripts/test):
# probes answer while a limit holds.
pytestmark = pytest.mark.serial

CAP = 256 * 1024


def fan_out(levels: int) -> str:
    spreads = " ".join(
        f"fragment F{i} on Subscription {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"subscription {{ ...F0 }} {spreads} fragment F{levels} on Subscription {{ __typename }}"


async def probe(live: Live) -> float:
    async with httpx.AsyncClient(base_url=live.http_url, timeout=30) as client:
        start = time.perf_counter()
        assert (await client.get("/healthz")).status_code == 200
        return time.perf_counter() - start


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("after_init", [False, True], ids=["before-init", "after-init"])
async def test_a_message_over_the_cap_closes_the_socket_with_1009(
    live: Live, alice: Tenant, protocol: str, after_init: bool
) -> None:
    async with raw(live, protocol) as conn:
        if after_init:
            assert (await conn.init({"Authorization": alice.authorization}))["type"] == (
                "connection_ack"
            )
        padding = "x" * (CAP + 1 - len('{"type": "connection_init", "payload": {"p": ""}}'))
        message = {"type": "connection_init", "payload": {"p": padding}}
        assert len(json.dumps(message)) == CAP + 1
        await conn.ws.send(json.dumps(message))
        code, seen = await conn.closed()
    assert code == 1009 and [m for m in seen if m["type"] not in ("ka", "ping")] == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_message_at_the_cap_is_read(live: Live, alice: Tenant, protocol: str) -> None:
    async with raw(live, protocol) as conn:
        base = {"type": "connection_init", "payload": {"Authorization": alice.authorization}}
        padding = "x" * (CAP - len(json.dumps({**base, "p": ""})))
        message = json.dumps({**base, "p": padding})
        assert len(message) == CAP
        await conn.ws.send(message)
        assert (await conn.recv_data())["type"] == "connection_ack"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_absurd_json_is_refused_without_a_crash(
    live: Live, alice: Tenant, protocol: str
) -> None:
    async with raw(live, protocol) as conn:
        await conn.ws.send("[" * 100_000 + "]" * 100_000)
        if protocol == TRANSPORT_WS:
            code, _ = await conn.closed()
            assert code == 4400
            return
        # graphql-ws ignores a message it cannot read; the socket goes on
        assert (await conn.init({"Authorization": alice.authorization}))["type"] == (
            "connection_ack"
        )


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("levels", [20, 30])
async def test_nothing_is_parsed_before_connection_init(
    live: Live, alice: Tenant, protocol: str, levels: int
) -> None:
    async with raw(live, protocol, {"Authorization": alice.authorization}) as conn:
        kind = "start" if protocol == LEGACY else "subscribe"
        payload = {"query": fan_out(levels) + " #" + "x" * 200_000}
        await conn.ws.send(json.dumps({"id": "1", "type": kind, "payload": payload}))
        waited = await probe(live)
        code, seen = await conn.closed()
    assert code == 4401 and seen == []
    assert waited < 0.1
