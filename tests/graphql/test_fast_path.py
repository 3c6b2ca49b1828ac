"""The leaf fast path (app/graphql/execution.py) answers exactly what graphql-core's own
executor answers: generated queries (random subsets of fields, aliases, repeated fields,
@skip/@include, fragments, __typename, nested LOAs, invalid and erroring selections) run
through both schemas over the same rows, data and errors compared."""

from __future__ import annotations

import random
from typing import Any

import pytest
from starlette.requests import Request

from app.config import Settings
from app.graphql.context import Context
from app.graphql.schema import build_schema
from app.services import port_orders
from app.services.context import Caller, Services
from tests.builders import account, foc, order_input

ORDER_LEAVES = [
    "id",
    "sid",
    "accountSid",
    "number",
    "friendlyName",
    "status",
    "portType",
    "dateCreated",
    "dateUpdated",
    "loaSid",
    "isoCountry",
    "region",
    "city",
    "postalCode",
    "street",
    "companyName",
    "firstName",
    "lastName",
    "email",
    "statusUpdatesEmail",
    "billingPhoneNumber",
    "activationDate",
    "earliestActivationDate",
    "submittedDate",
    "currentCarrier",
    "incomingPhoneNumberSid",
    "statusCallback",
    "ccEmails",
    "reasonCode",
    "reason",
    "providerSid",
    "zendeskId",
    "url",
    "__typename",
]
LOA_LEAVES = ["id", "sid", "status", "firstName", "lastName", "email", "url", "__typename"]


def _selection(rng: random.Random, leaves: list[str], nested: bool) -> str:
    parts: list[str] = []
    for name in rng.sample(leaves, rng.randint(1, len(leaves))):
        roll = rng.random()
        if roll < 0.15:
            parts.append(f"a{rng.randint(0, 9)}: {name}")  # alias (maybe a repeated one)
        elif roll < 0.25:
            parts.append(f"{name} {name}")  # the same field twice: one field group
        elif roll < 0.35:
            flag = rng.choice(["true", "false"])
            parts.append(f"{name} @{rng.choice(['skip', 'include'])}(if: {flag})")
        else:
            parts.append(name)
    if nested and rng.random() < 0.7:
        parts.append("loa { " + _selection(rng, LOA_LEAVES, False) + " }")
    if nested and rng.random() < 0.3:
        parts.append("... on PortOrder { " + " ".join(rng.sample(leaves[:-1], 3)) + " }")
    if nested and rng.random() < 0.2:
        parts.append("...F")
    return " ".join(parts)


def generated(rng: random.Random) -> str:
    body = _selection(rng, ORDER_LEAVES, True)
    query = "query Q { portOrders(first: 10) { edges { node { " + body + " } } } }"
    if "...F" in body:
        query += " fragment F on PortOrder { sid status dateCreated loa { status } }"
    return query


async def _run(schema: Any, svc: Services, caller: Caller, query: str) -> dict[str, Any]:
    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/graphql"})
    ctx = Context(services=svc, request=request, caller=caller)
    result = await schema.execute(query, context_value=ctx)
    errors = [(e.message, e.path) for e in result.errors or []]
    return {"data": result.data, "errors": errors}


async def _orders(svc: Services) -> Caller:
    caller = await account(svc)
    await port_orders.create_port_order(svc, caller, order_input())
    await port_orders.create_port_order(
        svc,
        caller,
        order_input(
            company_name="Acme",
            billing_phone_number="+14155550100",
            status_updates_email="ops@example.com",
            cc_emails=["a@example.com", "b@example.com"],
            activation_date=foc(10, "15:00:00"),
        ),
    )
    return caller


async def test_generated_queries_answer_the_same(svc: Services, settings: Settings) -> None:
    caller = await _orders(svc)
    fast, plain = build_schema(settings), build_schema(settings, fast_path=False)
    rng = random.Random(8)
    for _ in range(150):
        query = generated(rng)
        assert await _run(fast, svc, caller, query) == await _run(plain, svc, caller, query), query


async def test_errors_answer_the_same(svc: Services, settings: Settings) -> None:
    caller = await _orders(svc)
    fast, plain = build_schema(settings), build_schema(settings, fast_path=False)
    for query in (
        "{ portOrders(first: 5) { edges { node { sid nope } } } }",  # invalid
        "{ portOrders(first: 5) { edges { node { sid(x: 1) } } } }",
        "{ portOrders(first: -1) { edges { node { sid } } } }",  # an error from the resolver
        "{ portOrders(first: 5) { edges { node { status @skip(if: true) number } } } }",
    ):
        assert await _run(fast, svc, caller, query) == await _run(plain, svc, caller, query)


async def test_non_null_violation_answers_the_same(
    svc: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A null (or a value its type refuses) in a non-null leaf: graphql-core's error, both ways."""
    from app.graphql import nodes

    caller = await _orders(svc)
    fast, plain = build_schema(settings), build_schema(settings, fast_path=False)
    original = nodes.wrap_order

    def broken(row: Any) -> Any:
        wrapped: Any = original(row)  # given values its types refuse
        wrapped.number = None
        wrapped.status = "NOT_A_STATUS"
        return wrapped

    query = "{ portOrders(first: 5) { edges { node { sid number } } } }"
    query2 = "{ portOrders(first: 5) { edges { node { sid status } } } }"
    monkeypatch.setattr("app.graphql.query.wrap_order", broken)
    for text in (query, query2):
        a, b = await _run(fast, svc, caller, text), await _run(plain, svc, caller, text)
        assert a == b and a["errors"], text
