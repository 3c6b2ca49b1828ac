"""Cost (point 3 of issue 17): the node estimate refuses a document over
PORTICO_GRAPHQL_MAX_NODES before any SQL, naming its cost and the limit; one just under it
runs. The budget of points per account and hour runs out (20429: HTTP 429 with Retry-After,
GraphQL and REST together), resets at the next hour, costs no SQL on most requests, and is
one budget for two replicas on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.services.context import Services
from app.wiring import build_services
from tests.builders import Tenant, tenant
from tests.graphql.support import counting

LEVEL = "portOrders(first: 60) { edges { node { sid loa { "
NESTED = "{ " + LEVEL * 3 + "sid" + " } } } }" * 3 + " }"  # the 216,000 orders
# Its estimate: 60 orders, 60 x 60 of their LOAs' orders, 60 x 60 x 60 of theirs: 219,660.
# 5 + 500 + 500k nodes (5 orders, 100 orders of each one's LOA, k of each of those's LOA):
# the boundary is k = 98 (49,505) / 99 (50,005).
NEAR = """query ($k: Int!) { rateLimit { cost }
  portOrders(first: 5) { edges { node { loa { portOrders(first: 100) { edges { node {
    loa { portOrders(first: $k) { edges { node { sid status } } } } } } } } } } } }"""
RATE = "{ rateLimit { limit cost remaining resetAt } }"


async def test_the_nested_query_is_refused_with_its_cost_before_any_sql(
    svc: Services, http: httpx.AsyncClient, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    with counting(svc) as baseline:
        await http.post("/graphql", json={"query": "{ __typename }"}, headers=auth)
    with counting(svc) as statements:
        response = await http.post("/graphql", json={"query": NESTED}, headers=auth)
    body = response.json()
    assert response.status_code == 200 and body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": 20420, "cost": 219660, "limit": 50000}
    assert error["message"] == (
        "Query too costly: an estimated 219660 nodes, over the limit of 50000"
    )
    assert statements.count == baseline.count  # authentication, and nothing else


async def test_a_query_just_under_the_limit_runs_and_one_just_over_is_refused(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    under = await http.post("/graphql", json={"query": NEAR, "variables": {"k": 98}}, headers=auth)
    assert under.status_code == 200
    body = under.json()
    assert "errors" not in body
    assert body["data"]["rateLimit"] == {"cost": 496}  # ceil(49,505 / 100)
    over = await http.post("/graphql", json={"query": NEAR, "variables": {"k": 99}}, headers=auth)
    assert over.json()["errors"][0]["extensions"] == {"code": 20420, "cost": 50005, "limit": 50000}


@asynccontextmanager
async def replica(
    settings: Settings, points: int
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """An app with its own Services (its own budget state) on the test's database."""
    own = settings.model_copy(update={"graphql_points_per_hour": points})
    svc = build_services(own)
    transport = httpx.ASGITransport(app=create_app(own, svc))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield svc, c
    finally:
        await svc.close()


async def test_the_budget_runs_out_on_graphql_and_rest_together_and_resets(
    settings: Settings, svc: Services
) -> None:
    alice = await tenant(svc)
    auth = {"Authorization": alice.authorization}
    async with replica(settings, 10) as (own, http):
        now = datetime(2026, 12, 1, 14, 20, tzinfo=UTC)
        own.clock = lambda: now
        seen = []
        for _ in range(5):
            response = await http.post("/graphql", json={"query": RATE}, headers=auth)
            seen.append(response.json()["data"]["rateLimit"])
            assert (await http.get("/porting/PortOrders", headers=auth)).status_code == 200
        assert [s["remaining"] for s in seen] == [9, 7, 5, 3, 1]
        assert seen[0] == {
            "limit": 10,
            "cost": 1,
            "remaining": 9,
            "resetAt": "2026-12-01T15:00:00Z",
        }
        # the 11th point: refused on both transports, with when to come back
        refused = await http.post("/graphql", json={"query": RATE}, headers=auth)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "2400"
        body = refused.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": 20429, "retryAfter": 2400}
        rest = await http.get("/porting/PortOrders", headers=auth)
        assert rest.status_code == 429 and rest.headers["Retry-After"] == "2400"
        assert rest.json()["code"] == 20429
        # another account's budget is its own
        bob = await tenant(svc)
        other = await http.post(
            "/graphql", json={"query": RATE}, headers={"Authorization": bob.authorization}
        )
        assert other.json()["data"]["rateLimit"]["remaining"] == 9
        # and at the next hour it is full again
        now = now + timedelta(minutes=40)
        again = await http.post("/graphql", json={"query": RATE}, headers=auth)
        assert again.json()["data"]["rateLimit"]["remaining"] == 9
        assert again.json()["data"]["rateLimit"]["resetAt"] == "2026-12-01T16:00:00Z"


async def test_most_requests_spend_their_points_without_sql(
    svc: Services, http: httpx.AsyncClient, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    with counting(svc) as statements:
        for _ in range(20):
            await http.post("/graphql", json={"query": "{ __typename }"}, headers=auth)
            await http.get("/porting/PortOrders", headers=auth)
    assert not [s for s in statements.seen if "rate_limit_windows" in s]
    # a request whose points reach a chunk (1/50 of the 5,000) writes them, in one statement
    # (and the process's first write of the hour drops the rows of windows a day old)
    with counting(svc) as statements:
        await http.post("/graphql", json={"query": NEAR, "variables": {"k": 98}}, headers=auth)
    written = [s for s in statements.seen if "rate_limit_windows" in s]
    assert [s.split()[0] for s in written] == ["INSERT", "DELETE"]


@pytest.mark.dialects("sqlite", "postgres")
@pytest.mark.parametrize("points", [20, 100])
async def test_two_replicas_share_one_budget(
    settings: Settings, svc: Services, points: int
) -> None:
    alice = await tenant(svc)
    auth = {"Authorization": alice.authorization}
    async with replica(settings, points) as (_, one), replica(settings, points) as (_, two):

        async def ask(http: httpx.AsyncClient) -> int:
            response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=auth)
            return response.status_code

        served: dict[int, int] = {200: 0, 429: 0}
        while served[429] < 10:  # both at once, until each has refused a few
            codes: list[Any] = await asyncio.gather(*(ask(h) for h in (one, two) * 4))
            for code in codes:
                served[code] += 1
            assert served[200] <= points + 2 * (points // 50), served
    # every point was spent once: none twice (the database decided), at most a chunk
    # (1/50 of the budget) per replica spent unwritten past it
    assert points <= served[200] <= points + 2 * (points // 50)
    if points // 50 <= 1:
        assert served[200] == points
