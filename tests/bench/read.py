"""The read case: one page of 50 orders, GraphQL against REST, on one `portico serve` (SQLite).

GraphQL `portOrders(first: 50)` with every scalar field of an order and `loa { sid status }`;
REST `GET /porting/PortOrders?PageSize=50` (the same 50 orders; REST adds each order's errors).
Requests alternate (GraphQL, REST, GraphQL, ...) over one keep-alive connection each, after a
warm-up. SQL statements per request come from the server (PORTICO_DEBUG_COUNT_SQL).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.services import port_orders
from app.wiring import build_services
from tests.bench.harness import Options, settings_for, sqlite_database, workdir
from tests.bench.serving import Series, client, new_account, number, server, timed
from tests.builders import order_input

DESCRIPTION = "GraphQL portOrders(first: 50) vs the REST list of the same page: p50/p99, rps, SQL"

ORDER_FIELDS = """
  id sid accountSid number friendlyName status portType dateCreated dateUpdated loaSid
  isoCountry region city postalCode street companyName firstName lastName email
  statusUpdatesEmail billingPhoneNumber activationDate earliestActivationDate submittedDate
  currentCarrier incomingPhoneNumberSid statusCallback ccEmails reasonCode reason providerSid
  zendeskId url
"""
QUERY = (
    "query Page { portOrders(first: 50) { edges { node {"
    + ORDER_FIELDS
    + " loa { sid status } } } pageInfo { hasNextPage endCursor } } }"
)
PAGE = 50


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


async def measure(url: str, var_dir: Path, authorization: str, rounds: int) -> dict[str, float]:
    async with (
        server(url, var_dir) as replica,
        client(replica, authorization) as gql,
        client(replica, authorization) as rest,
    ):
        graphql, listing = Series.empty(), Series.empty()
        for warm in (True, False):
            for _ in range(10 if warm else rounds):
                g = graphql if not warm else Series.empty()
                r = listing if not warm else Series.empty()
                gr = await timed(g, lambda: gql.post("/graphql", json={"query": QUERY}))
                rr = await timed(r, lambda: rest.get("/porting/PortOrders?PageSize=50"))
        body, rbody = gr.json(), rr.json()
        assert "errors" not in body, body
        g_sids = [e["node"]["sid"] for e in body["data"]["portOrders"]["edges"]]
        assert g_sids == [o["sid"] for o in rbody["orders"]] and len(g_sids) == PAGE
    return {
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
