"""PORTICO_DEBUG_COUNT_SQL (benchmarks): each HTTP response says how many SQL statements its
request ran; off by default. The read bench relies on these counts."""

from __future__ import annotations

from typing import Any

import httpx

from app.config import Settings
from app.main import create_app
from app.services import port_orders
from app.store.counting import HEADER
from app.wiring import build_services
from tests.builders import numbers, order_input, request_input, tenant

QUERY = "{ portOrders(first: 50) { edges { node { sid status loa { sid status } } } } }"


async def _client(settings: Settings, auth: str) -> tuple[Any, httpx.AsyncClient]:
    settings.scheduler_enabled = False
    settings.delivery_worker = False
    app = create_app(settings)
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": auth},
    )
    return app, http


async def _seed(settings: Settings, n: int) -> str:
    svc = build_services(settings)
    try:
        owner = await tenant(svc, name="counting")
        for _ in range(n):
            await port_orders.create_port_order(svc, owner.caller, order_input())
    finally:
        await svc.close()
    return owner.authorization


async def test_reads_answer_their_statement_count(settings: Settings) -> None:
    auth = await _seed(settings, 3)
    settings.debug_count_sql = True
    app, http = await _client(settings, auth)
    async with app.router.lifespan_context(app), http:
        rest = await http.get("/porting/PortOrders?PageSize=50")
        graphql = await http.post("/graphql", json={"query": QUERY})
    assert rest.status_code == graphql.status_code == 200
    assert len(graphql.json()["data"]["portOrders"]["edges"]) == 3
    # caller, page, errors (REST) / caller, the page joined to its LOAs (GraphQL): no N+1
    assert rest.headers[HEADER.decode()] == "3"
    assert graphql.headers[HEADER.decode()] == "2"


async def test_off_by_default(settings: Settings) -> None:
    auth = await _seed(settings, 1)
    app, http = await _client(settings, auth)
    async with app.router.lifespan_context(app), http:
        rest = await http.get("/porting/PortOrders")
    assert rest.status_code == 200
    assert HEADER.decode() not in rest.headers


async def test_a_port_request_runs_as_many_statements_for_1000_numbers_as_for_10(
    settings: Settings,
) -> None:
    """The bulk create writes table by table: its statements do not grow with its numbers
    (each request here has a group of its own, so each makes its LOA)."""
    auth = await _seed(settings, 0)
    settings.debug_count_sql = True
    app, http = await _client(settings, auth)
    counts, cancels = [], []
    async with app.router.lifespan_context(app), http:
        for size, signer in ((10, "Ten"), (1000, "Thousand"), (10, "Again")):
            raw = request_input(
                numbers(size), last_name=signer, status_callback="https://example.com/cb"
            )
            r = await http.post("/porting/PortRequests", json=raw)
            assert r.status_code == 201, r.text
            assert r.json()["counts"]["PENDING"] == size
            counts.append(int(r.headers[HEADER.decode()]))
            # and canceling all of them: one statement per kind of write too
            canceled = await http.delete(f"/porting/PortRequests/{r.json()['sid']}")
            assert canceled.json()["counts"]["CANCELED"] == size
            cancels.append(int(canceled.headers[HEADER.decode()]))
    assert counts[0] == counts[1] == counts[2], counts
    assert counts[0] <= 12, counts  # caller, lock, taken numbers, LOAs, one insert per table
    assert cancels[0] == cancels[1] == cancels[2], cancels
