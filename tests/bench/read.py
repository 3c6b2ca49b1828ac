"""The read case: one page of 50 orders, GraphQL against REST, on one `portico serve` (SQLite).

GraphQL `portOrders(first: 50)` with every scalar field of an order and `loa { sid status }`;
REST `GET /porting/PortOrders?PageSize=50` (the same 50 orders; REST adds each order's errors).
Requests alternate (GraphQL, REST, GraphQL, ...) over one keep-alive connection each, after a
warm-up: `read.ratio` and the p50/p99 keys. SQL statements per request come from the server
(PORTICO_DEBUG_COUNT_SQL).

Then under load (issue 17): 8 concurrent clients, each on its own keep-alive connection, send
one kind of request for a fixed count; the server process's user + system CPU time over that
phase divided by the requests is `read.*_cpu_ms_*` (the page of 50, the same query with
`first: 10`, REST's page of 50), and requests / wall time of the page of 50 is
`read.graphql_rps_50`; three rounds of the three loads in turn, the median of each.
`read.typename_p50_ms`: `{ __typename }` with auth, one client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from app.services import port_orders
from app.wiring import build_services
from tests.bench.harness import Options, cpu_seconds, settings_for, sqlite_database, workdir
from tests.bench.serving import Series, Server, client, new_account, number, server, timed
from tests.builders import order_input

DESCRIPTION = "GraphQL portOrders(first: 50) vs the REST list of the same page: p50/p99, rps, SQL"

ORDER_FIELDS = """
  id sid accountSid number friendlyName status portType dateCreated dateUpdated loaSid
  isoCountry region city postalCode street companyName firstName lastName email
  statusUpdatesEmail billingPhoneNumber activationDate earliestActivationDate submittedDate
  currentCarrier incomingPhoneNumberSid statusCallback ccEmails reasonCode reason providerSid
  zendeskId url
"""


def page_query(first: int) -> str:
    return (
        f"query Page {{ portOrders(first: {first}) {{ edges {{ node {{"
        + ORDER_FIELDS
        + " loa { sid status } } } pageInfo { hasNextPage endCursor } } }"
    )


QUERY = page_query(50)
QUERY_10 = page_query(10)
TYPENAME = "{ __typename }"
PAGE = 50
CLIENTS = 8
REPEATS = 3


async def seed_orders(database_url: str, var_dir: Path, n: int) -> str:
    """An account with n orders (through the services); its Authorization header."""
    svc = build_services(settings_for(database_url, var_dir))
    try:
        caller, authorization = await new_account(svc)
        for i in range(n):
            raw = order_input(
                number=number(),
                company_name=f"Company {i}",
                billing_phone_number="+14155550100",
                status_callback="https://example.com/cb",
            )
            await port_orders.create_port_order(svc, caller, raw)
    finally:
        await svc.close()
    return authorization


Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def gql(query: str) -> Send:
    return lambda http: http.post("/graphql", json={"query": query})


def rest_page(http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    return http.get(f"/porting/PortOrders?PageSize={PAGE}")


async def under_load(
    replica: Server, authorization: str, send: Send, per_client: int
) -> tuple[float, float]:
    """CLIENTS clients, each sending `per_client` requests in a row on its own connection:
    (server CPU ms per request, requests per second)."""
    clients = [client(replica, authorization) for _ in range(CLIENTS)]
    try:
        for http in clients:  # connect and warm up outside the measured phase
            for _ in range(3):
                (await send(http)).raise_for_status()

        async def one(http: httpx.AsyncClient) -> None:
            for _ in range(per_client):
                response = await send(http)
                response.raise_for_status()
                assert "errors" not in response.json()

        cpu_before = cpu_seconds(replica.proc.pid)
        started = time.perf_counter()
        await asyncio.gather(*(one(http) for http in clients))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(replica.proc.pid) - cpu_before
    finally:
        for http in clients:
            await http.aclose()
    n = CLIENTS * per_client
    return cpu * 1000 / n, n / wall


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median CPU ms per request of the runs, and the median rps."""
    cpu = sorted(c for c, _ in runs)[len(runs) // 2]
    rps = sorted(r for _, r in runs)[len(runs) // 2]
    return cpu, rps


async def typename_p50(replica: Server, authorization: str, rounds: int) -> float:
    series = Series.empty()
    async with client(replica, authorization) as http:
        for _ in range(10):
            await gql(TYPENAME)(http)
        for _ in range(rounds):
            response = await timed(series, lambda: gql(TYPENAME)(http))
            assert response.json() == {"data": {"__typename": "Query"}}
    return series.p50_ms


async def measure(url: str, var_dir: Path, authorization: str, rounds: int) -> dict[str, float]:
    async with (
        server(url, var_dir) as replica,
        client(replica, authorization) as graphql_http,
        client(replica, authorization) as rest,
    ):
        graphql, listing = Series.empty(), Series.empty()
        for warm in (True, False):
            for _ in range(10 if warm else rounds):
                g = graphql if not warm else Series.empty()
                r = listing if not warm else Series.empty()
                gr = await timed(g, lambda: graphql_http.post("/graphql", json={"query": QUERY}))
                rr = await timed(r, lambda: rest.get("/porting/PortOrders?PageSize=50"))
        body, rbody = gr.json(), rr.json()
        assert "errors" not in body, body
        g_sids = [e["node"]["sid"] for e in body["data"]["portOrders"]["edges"]]
        assert g_sids == [o["sid"] for o in rbody["orders"]] and len(g_sids) == PAGE
        # Three rounds of the three loads in turn, the median of each: the machine's other
        # work shifts between rounds, and reaches all three alike.
        per_client = max(10, rounds // (8 * REPEATS))
        loads: dict[str, list[tuple[float, float]]] = {"50": [], "10": [], "rest": []}
        for _ in range(REPEATS):
            for kind, send in (("50", gql(QUERY)), ("10", gql(QUERY_10)), ("rest", rest_page)):
                loads[kind].append(await under_load(replica, authorization, send, per_client))
        cpu_50, rps_50 = _median(loads["50"])
        cpu_10, _ = _median(loads["10"])
        rest_cpu_50, rest_rps_50 = _median(loads["rest"])
        typename = await typename_p50(replica, authorization, rounds)
    return {
        "read.graphql_cpu_ms_50": cpu_50,
        "read.graphql_cpu_ms_10": cpu_10,
        "read.rest_cpu_ms_50": rest_cpu_50,
        "read.graphql_rps_50": rps_50,
        "read.rest_rps_50": rest_rps_50,
        "read.typename_p50_ms": typename,
        "read.ratio": graphql.p50_ms / listing.p50_ms,
        "read.graphql_p50_ms": graphql.p50_ms,
        "read.graphql_p99_ms": graphql.p99_ms,
        "read.graphql_rps": graphql.rps,
        "read.rest_p50_ms": listing.p50_ms,
        "read.rest_p99_ms": listing.p99_ms,
        "read.rest_rps": listing.rps,
        "read.sql_statements": graphql.sql,
        "read.rest_sql_statements": listing.sql,
    }


def run(options: Options) -> dict[str, float]:
    rounds = 150 if options.quick else 600
    with workdir() as where:
        url = sqlite_database(where)
        authorization = asyncio.run(seed_orders(url, where, PAGE))
        return asyncio.run(measure(url, where, authorization, rounds))
