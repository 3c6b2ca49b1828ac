"""Persisted queries (issue 14, point 4): Apollo Client's persisted-queries link against a real
server (Node 20, @apollo/client pinned by tests/access/node/package-lock.json): the hash alone,
`PersistedQueryNotFound`, the full document once, then the hash alone again, over POST and GET;
the document stored in the database, so another replica knows it; the hash checked against
the text; over websockets too. Trusted-documents mode: only the manifest's documents run, and
anything else is refused before it is parsed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from app.services import port_orders
from app.services.context import Services
from app.store.tables import PersistedQuery
from tests.builders import Tenant, order_input
from tests.subscriptions.support import TRANSPORT_WS, WAIT, Live, live_server, raw

pytestmark = pytest.mark.dialects("sqlite", "postgres")
NODE_DIR = Path(__file__).parent / "node"
COUNT = "query Count { portOrders { totalCount } }"
EVENTS = "subscription Events { portOrderStatusChanged { portOrderSid status } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hashed(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


@pytest.fixture(scope="session")
def node() -> str:
    exe = shutil.which("node")
    if exe is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required on CI (Node 20)")
        pytest.skip("node/npm not installed")
    if not (NODE_DIR / "node_modules" / "@apollo" / "client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    return exe


@pytest.fixture
async def live(app: Starlette) -> AsyncIterator[Live]:
    async with live_server(app) as server:
        yield server


async def apollo(node: str, live: Live, who: Tenant, query: str, **job: Any) -> dict[str, Any]:
    spec = {"url": live.http_url + "/graphql", "authorization": who.authorization, "query": query}
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "apq.mjs"),
        json.dumps({**spec, **job}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return dict(json.loads(out))


async def stored(svc: Services) -> dict[str, str]:
    async with svc.db.read() as s:
        rows = (await s.execute(select(PersistedQuery))).scalars().all()
    return {r.sha256: r.document for r in rows}


@pytest.mark.parametrize("get", [False, True], ids=["post", "get"])
async def test_apollo_persisted_query_link_registers_once_then_sends_the_hash(
    node: str, live: Live, svc: Services, alice: Tenant, get: bool
) -> None:
    await port_orders.create_port_order(svc, alice.caller, order_input())
    got = await apollo(node, live, alice, COUNT, get=get, times=2)
    # both runs answered
    assert [r["data"]["portOrders"]["totalCount"] for r in got["results"]] == [1, 1]
    # the link sent the hash alone, was told PersistedQueryNotFound, sent the document with its
    # hash once, and the hash alone the second time
    requests = got["requests"]
    assert [r["hasQuery"] for r in requests] == [False, True, False]
    assert all(r["hash"] == requests[0]["hash"] for r in requests)
    if get:
        assert requests[0]["method"] == "GET" and requests[2]["method"] == "GET"
    # and the document is in the database, under the hash the client computed
    sent = requests[1]["query"]
    assert sha(sent) == requests[0]["hash"]
    assert list((await stored(svc)).items()) == [(requests[0]["hash"], sent)]


async def test_another_replica_knows_a_registered_hash(
    node: str, live: Live, svc: Services, settings: Settings, alice: Tenant
) -> None:
    # given the document registered through one server (Apollo's link)
    sent = (await apollo(node, live, alice, COUNT, times=1))["requests"][1]["query"]
    # when another server on the same database gets the hash alone
    other = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://replica-b"
    ) as http:
        response = await http.post(
            "/graphql",
            json={"extensions": hashed(sent)},
            headers={"Authorization": alice.authorization},
        )
    await other.state.services.close()
    # then it runs it
    assert response.json()["data"]["portOrders"]["totalCount"] == 0


async def test_apq_refusals_store_nothing(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    # an unknown hash: PersistedQueryNotFound (what Apollo's link expects: HTTP 200)
    unknown = await http.post("/graphql", json={"extensions": hashed(COUNT)}, headers=auth)
    assert unknown.status_code == 200
    assert unknown.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    # a document that is not the hash's
    mismatch = await http.post(
        "/graphql", json={"query": "{ __typename }", "extensions": hashed(COUNT)}, headers=auth
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["message"] == "provided sha does not match query"
    # a malformed extension
    for bad in ({"version": 2, "sha256Hash": sha(COUNT)}, {"version": 1, "sha256Hash": "x"}, 7):
        r = await http.post("/graphql", json={"extensions": {"persistedQuery": bad}}, headers=auth)
        assert r.status_code == 400, bad
    # a document that does not validate runs (and fails) but is not kept
    invalid = "{ noSuchField }"
    r = await http.post(
        "/graphql", json={"query": invalid, "extensions": hashed(invalid)}, headers=auth
    )
    assert r.json()["errors"]
    # wrong credentials: 401 before any lookup or registration
    wrong = {"Authorization": "Basic " + "QUNmb286YmFy"}
    for body in ({"extensions": hashed(COUNT)}, {"query": COUNT, "extensions": hashed(COUNT)}):
        r = await http.post("/graphql", json=body, headers=wrong)
        assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == 20003
    assert await stored(svc) == {}


async def test_a_subscription_by_hash_over_a_websocket(
    live: Live, http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    async with raw(live, TRANSPORT_WS) as conn:
        await conn.init({"Authorization": alice.authorization})
        # unknown hash: PersistedQueryNotFound for that operation
        await conn.send({"id": "1", "type": "subscribe", "payload": {"extensions": hashed(EVENTS)}})
        refused = await conn.recv_data()
        assert refused["type"] == "error" and refused["id"] == "1"
        assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        # the document with its hash registers it; then the hash alone runs
        await conn.send(
            {
                "id": "2",
                "type": "subscribe",
                "payload": {"query": EVENTS, "extensions": hashed(EVENTS)},
            }
        )
        await conn.send({"id": "3", "type": "subscribe", "payload": {"extensions": hashed(EVENTS)}})
        async with asyncio.timeout(WAIT):
            while svc.hub.subscriber_count < 2:  # noqa: ASYNC110 (the server's state, polled)
                await asyncio.sleep(0.01)
        order = await port_orders.create_port_order(svc, alice.caller, order_input())
        ids: set[str] = set()
        while ids != {"2", "3"}:
            message = await conn.recv_data()
            assert message["type"] == "next", message
            assert message["payload"]["data"]["portOrderStatusChanged"]["portOrderSid"] == order.sid
            ids.add(message["id"])
    assert sha(EVENTS) in await stored(svc)


# --- trusted documents ----------------------------------------------------------------------


def apollo_text(node: str, query: str) -> str:
    """The text Apollo Client sends for `query` (it adds __typename fields)."""
    done = subprocess.run(
        [node, str(NODE_DIR / "apq.mjs"), json.dumps({"print": True, "query": query})],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text: str = json.loads(done.stdout)["text"]
    return text


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if "trusted" not in request.node.name:
        return settings
    manifest = tmp_path / "trusted.json"
    documents = [COUNT, EVENTS, apollo_text(request.getfixturevalue("node"), COUNT)]
    manifest.write_text(json.dumps({sha(d): d for d in documents}))
    return settings.model_copy(update={"graphql_trusted_documents": manifest})


async def test_trusted_documents_run_by_hash_or_text_and_nothing_else(
    node: str, live: Live, http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    # Apollo's link: the hash alone runs at once
    got = await apollo(node, live, alice, COUNT, times=1)
    assert got["results"][0]["data"]["portOrders"]["totalCount"] == 0
    assert [r["hasQuery"] for r in got["requests"]] == [False]
    # the exact text runs too
    by_text = await http.post("/graphql", json={"query": COUNT}, headers=auth)
    assert by_text.json() == {"data": {"portOrders": {"totalCount": 0}}}
    # anything else is refused before parsing: a valid document, one that cannot even parse,
    # and a registration attempt (its own hash)
    for body in (
        {"query": "{ __typename }"},
        {"query": "{{{{ not graphql"},
        {"query": "{ __typename }", "extensions": hashed("{ __typename }")},
        {"extensions": hashed("{ __typename }")},
    ):
        r = await http.post("/graphql", json=body, headers=auth)
        assert r.status_code == 400, body
        assert r.json()["errors"][0] == {
            "message": "Only trusted documents run on this server",
            "extensions": {"code": 20403},
        }
    # GET too
    r = await http.get("/graphql", params={"query": "{ __typename }"}, headers=auth)
    assert r.status_code == 400
    assert await stored(svc) == {}


async def test_trusted_documents_over_a_websocket(live: Live, svc: Services, alice: Tenant) -> None:
    async with raw(live, TRANSPORT_WS) as conn:
        await conn.init({"Authorization": alice.authorization})
        # a document not in the manifest: refused
        await conn.subscribe("1", "subscription { loaStatusChanged { loaSid } }", {})
        refused = await conn.recv_data()
        assert refused["type"] == "error" and refused["id"] == "1"
        assert refused["payload"][0]["extensions"]["code"] == 20403
        # the manifest's, by hash: runs
        await conn.send({"id": "2", "type": "subscribe", "payload": {"extensions": hashed(EVENTS)}})
        async with asyncio.timeout(WAIT):
            while svc.hub.subscriber_count < 1:  # noqa: ASYNC110 (the server's state, polled)
                await asyncio.sleep(0.01)
        order = await port_orders.create_port_order(svc, alice.caller, order_input())
        message = await conn.recv_data()
        assert message["id"] == "2"
        assert message["payload"]["data"]["portOrderStatusChanged"]["portOrderSid"] == order.sid
