"""The direct lane (app/graphql/direct.py): every kind of request answered by an app with the
lane and by one without it (Strawberry's view for everything), on the same database, gives the
same status, media type, headers and body; the lane answers exactly the requests it is meant
to (cached valid queries with a compiled plan), and records the operation's metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlmodel import col

from app.config import Settings
from app.main import create_app
from app.services import grants as grants_service
from app.services import port_orders, reads
from app.services.budgets import budget_of
from app.services.context import Services
from app.store.tables import Delivery, Event, PortOrder
from app.wiring import build_services
from tests.access.support import access_token, bearer
from tests.builders import Tenant, camel, order_input
from tests.conftest import snapshot

PAGE = """query Page($n: Int) { portOrders(first: $n) {
  edges { cursor node { id sid number status dateCreated activationDate ccEmails
    loa { sid status portOrders(first: 2) { totalCount edges { node { sid } } } } } }
  pageInfo { hasNextPage endCursor } totalCount } }"""
FRAGMENTS = """query One($sid: ID!) { portOrder(sid: $sid) { ...O again: sid __typename }
  node(id: $sid) { __typename ... on PortOrder { ...O } } }
fragment O on PortOrder { sid friendlyName url allowedActions loa { ...L } }
fragment L on Loa { sid status email }"""
TWO_OPS = "query A { __typename } query B { rateLimit { limit cost } }"
RENAME = """mutation Rename($sid: ID!) { updatePortOrder(sid: $sid, input: {friendlyName: "R"}) {
  portOrder { sid friendlyName status } userErrors { code field message } } }"""
CREATE = """mutation Create($input: CreatePortOrderInput!) { createPortOrder(input: $input) {
  portOrder { status number loa { status } } userErrors { code field message } } }"""
BAD_NUMBER = {**camel(order_input()), "number": "+1555"}


@dataclass
class Case:
    name: str
    body: Any  # the JSON body (or text, with a content type in headers)
    lane: bool  # whether the direct lane answers it
    headers: dict[str, str] | None = None


@dataclass
class Apps:
    svc: Services
    lane: httpx.AsyncClient
    plain: httpx.AsyncClient
    answered: list[str]


@pytest.fixture
async def apps(settings: Settings, svc: Services) -> AsyncIterator[Apps]:
    with_lane, without = create_app(settings, svc), create_app(settings, svc)
    assert with_lane.graphql is not None and without.graphql is not None
    without.graphql.lane = None
    lane = with_lane.graphql.lane
    assert lane is not None
    answered: list[str] = []
    answer = lane.answer

    async def counted(request: Any, body: bytes) -> Any:
        response = await answer(request, body)
        if response is not None:
            answered.append(body.decode())
        return response

    lane.answer = counted  # type: ignore[method-assign]
    base = "http://testserver"
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=with_lane), base_url=base) as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=without), base_url=base) as b,
    ):
        yield Apps(svc, a, b, answered)


def _send(http: httpx.AsyncClient, case: Case, auth: dict[str, str]) -> Any:
    headers = {**auth, **(case.headers or {})}
    if isinstance(case.body, str):
        return http.post("/graphql", content=case.body, headers=headers)
    return http.post(
        "/graphql",
        content=json.dumps(case.body),
        headers=headers | {"Content-Type": headers.get("Content-Type", "application/json")},
    )


def _seen(response: httpx.Response) -> tuple[Any, ...]:
    kept = ("content-type", "retry-after", "www-authenticate")
    return (
        response.status_code,
        {k: response.headers.get(k) for k in kept},
        response.json(),
    )


async def _compare(apps: Apps, cases: list[Case], auth: dict[str, str]) -> None:
    for case in cases:
        await _send(apps.lane, case, auth)  # the document is cached now
        before = len(apps.answered)
        direct = await _send(apps.lane, case, auth)
        took_lane = len(apps.answered) > before
        plain = await _send(apps.plain, case, auth)
        assert took_lane is case.lane, case.name
        assert _seen(direct) == _seen(plain), case.name


@pytest.mark.dialects("sqlite", "postgres")
async def test_every_kind_of_request_answers_the_same_with_and_without_the_lane(
    apps: Apps, alice: Tenant
) -> None:
    svc = apps.svc
    orders = [
        await port_orders.create_port_order(svc, alice.caller, order_input(cc_emails=["a@x.io"]))
        for _ in range(3)
    ]
    sid = orders[0].sid
    graphql_response = {"Accept": "application/graphql-response+json"}
    cases = [
        Case("a page with its LOAs", {"query": PAGE, "variables": {"n": 2}}, True),
        Case("a page, default size", {"query": PAGE}, True),
        Case("fragments, aliases, node", {"query": FRAGMENTS, "variables": {"sid": sid}}, True),
        Case("typename", {"query": "{ __typename }"}, True),
        Case("an operation by name", {"query": TWO_OPS, "operationName": "B"}, True),
        Case(
            "null variables and name",
            {"query": "{ __typename }", "variables": None, "operationName": None},
            True,
        ),
        Case(
            "a field error (a bad cursor)",
            {"query": '{ portOrders(after: "nope") { totalCount } }'},
            True,
        ),
        Case(
            "not found is null", {"query": FRAGMENTS, "variables": {"sid": "PN" + "0" * 32}}, True
        ),
        Case("the new media type", {"query": PAGE}, True, graphql_response),
        Case(
            "charset in the content type",
            {"query": "{ __typename }"},
            True,
            {"Content-Type": "application/json; charset=utf-8"},
        ),
        # and what Strawberry's view answers
        Case("two operations, no name", {"query": TWO_OPS}, False),
        Case("an unknown operation name", {"query": TWO_OPS, "operationName": "C"}, False),
        Case("invalid", {"query": "{ portOrderz { sid } }"}, False),
        Case("invalid, new media type", {"query": "{ portOrderz }"}, False, graphql_response),
        Case("does not parse", {"query": "{ portOrders { "}, False),
        Case(
            "a mutation's user errors",
            {"query": 'mutation { cancelPortOrder(sid: "PN1") { userErrors { code } } }'},
            True,
        ),
        Case("variables that do not coerce", {"query": PAGE, "variables": {"n": "ten"}}, False),
        Case("variables missing", {"query": FRAGMENTS}, False, graphql_response),
        Case("a directive", {"query": "{ __typename @include(if: true) }"}, False),
        Case("persisted-query extensions", {"query": "{ __typename }", "extensions": {}}, False),
        Case("an unknown key", {"query": "{ __typename }", "other": 1}, False),
        Case("variables not an object", {"query": "{ __typename }", "variables": [1]}, False),
        Case("query not a string", {"query": 1}, False),
        Case("a list (batch)", [{"query": "{ __typename }"}], False),
        Case(
            "too costly",
            {
                "query": "{ portOrders(first: 100) { edges { node { loa { "
                "portOrders(first: 100) { edges { node { loa { portOrders(first: 100) { "
                "totalCount } } } } } } } } } }"
            },
            False,
        ),
        Case("plain text", "{ __typename }", False, {"Content-Type": "text/plain"}),
        Case("malformed JSON", '{"query": ', False, {"Content-Type": "application/json"}),
        Case("a subscription", {"query": "subscription { portOrderStatusChanged { sid } }"}, False),
    ]
    cases += [
        Case("a mutation", {"query": RENAME, "variables": {"sid": sid}}, True),
        Case("a refused create", {"query": CREATE, "variables": {"input": BAD_NUMBER}}, True),
        Case("a mutation's bad input", {"query": CREATE, "variables": {"input": {"x": 1}}}, False),
    ]
    await _compare(apps, cases, {"Authorization": alice.authorization})
    # and the lane's operations are measured as the view's are
    ok = REGISTRY.get_sample_value(
        "portico_graphql_operation_duration_seconds_count",
        {"operation": "Page", "type": "query", "outcome": "ok"},
    )
    assert ok is not None and ok >= 4


async def test_restricted_and_read_only_credentials_answer_the_same(
    apps: Apps, alice: Tenant
) -> None:
    svc = apps.svc
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    other = await port_orders.create_port_order(svc, alice.caller, order_input())
    token = await access_token(apps.lane, alice.authorization, restriction=mine.sid)
    one = "query($s: ID!) { portOrder(sid: $s) { sid loa { sid status } } }"
    cases = [
        Case("its own order", {"query": one, "variables": {"s": mine.sid}}, True),
        Case("another order", {"query": one, "variables": {"s": other.sid}}, False),
        Case("a list", {"query": "{ portOrders { totalCount } }"}, False),
    ]
    await _compare(apps, cases, bearer(token))
    read = await access_token(apps.lane, alice.authorization, scope="read")
    await _compare(apps, [Case("a read token's page", {"query": PAGE}, True)], bearer(read))


async def test_an_exhausted_budget_answers_429_the_same(
    settings: Settings, svc: Services, alice: Tenant
) -> None:
    own = settings.model_copy(update={"graphql_points_per_hour": 3})
    budgeted = build_services(own)  # (the budget is the services')
    now = datetime(2026, 12, 1, 14, 20, tzinfo=UTC)
    budgeted.clock = lambda: now
    with_lane, without = create_app(own, budgeted), create_app(own, budgeted)
    assert without.graphql is not None
    without.graphql.lane = None
    auth = {"Authorization": alice.authorization}
    body = {"query": "{ rateLimit { limit cost remaining } }"}
    base = "http://testserver"
    seen: list[tuple[Any, ...]] = []
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=with_lane), base_url=base) as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=without), base_url=base) as b,
    ):
        for http in (a, a, a, a, b):  # 3 points, then refused on both
            seen.append(_seen(await http.post("/graphql", json=body, headers=auth)))
        for accept in ("application/json", "application/graphql-response+json"):
            headers = auth | {"Accept": accept}
            direct = await a.post("/graphql", json=body, headers=headers)
            plain = await b.post("/graphql", json=body, headers=headers)
            assert _seen(direct) == _seen(plain)
            assert direct.status_code == 429 and direct.headers["retry-after"] == "2400"
    await budgeted.close()
    assert [s[2]["data"]["rateLimit"]["remaining"] for s in seen[:3]] == [2, 1, 0]
    assert seen[3] == seen[4]
    assert seen[3][0] == 429 and seen[3][2]["errors"][0]["extensions"]["code"] == 20429


async def test_an_unreachable_database_answers_503_the_same(
    apps: Apps, alice: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that finds the database gone (mid-page, or in the budget's own read) answers
    20503 with Retry-After on both, and an unexpected failure is masked on both."""
    auth = {"Authorization": alice.authorization}
    page = Case("a page", {"query": PAGE}, True)
    await _send(apps.lane, page, auth)  # cached

    async def gone(*_: Any, **__: Any) -> Any:
        raise ConnectionRefusedError("the database is away")

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug with a secret S3CRET in its text")

    for failure, status in ((gone, 503), (broken, 200)):
        monkeypatch.setattr(reads, "list_port_orders_and_loas", failure)
        direct, plain = await _send(apps.lane, page, auth), await _send(apps.plain, page, auth)
        assert _seen(direct) == _seen(plain) and direct.status_code == status
        assert "S3CRET" not in direct.text and "away" not in direct.text
        monkeypatch.undo()
    budget = budget_of(apps.svc)
    monkeypatch.setattr(budget, "spend", gone)
    direct, plain = await _send(apps.lane, page, auth), await _send(apps.plain, page, auth)
    assert _seen(direct) == _seen(plain) and direct.status_code == 503
    assert direct.json()["errors"][0]["extensions"]["code"] == 20503
    assert direct.headers["retry-after"]
    monkeypatch.undo()
    # and a restricted token whose grant cannot be read
    mine = await port_orders.create_port_order(apps.svc, alice.caller, order_input())
    token = await access_token(apps.lane, alice.authorization, restriction=mine.sid)
    one = Case("its order", {"query": FRAGMENTS, "variables": {"sid": mine.sid}}, False)
    await _send(apps.lane, one, bearer(token))
    monkeypatch.setattr(grants_service, "check_sid", gone)
    direct = await _send(apps.lane, one, bearer(token))
    plain = await _send(apps.plain, one, bearer(token))
    assert _seen(direct) == _seen(plain) and direct.status_code == 503
    assert "away" not in direct.text


@pytest.mark.dialects("sqlite", "postgres")
async def test_a_create_on_the_lane_stores_what_the_view_stores(apps: Apps, alice: Tenant) -> None:
    """The same create through both (two numbers): the same answer, and each order with its
    events and deliveries as the view writes them; a read-only token's create is refused
    by the view, and stores nothing."""
    auth = {"Authorization": alice.authorization}
    bodies = []
    for http in (apps.lane, apps.lane, apps.plain):  # (the first caches the document)
        raw = camel(order_input(status_callback="https://example.com/cb"))
        before = len(apps.answered)
        response = await http.post(
            "/graphql", json={"query": CREATE, "variables": {"input": raw}}, headers=auth
        )
        bodies.append((response.status_code, response.json(), len(apps.answered) > before))
    (s1, b1, lane1), (s2, b2, lane2), (s3, b3, lane3) = bodies
    assert (lane1, lane2, lane3) == (False, True, False)
    for body in (b1, b2, b3):
        body["data"]["createPortOrder"]["portOrder"].pop("number")
    assert s2 == s3 == 200 and b2 == b3 == b1
    assert b2["data"]["createPortOrder"]["portOrder"]["status"] == "PENDING"
    async with apps.svc.db.read() as s:
        orders = (await s.execute(select(PortOrder).order_by(col(PortOrder.id)))).scalars().all()
        kinds = [
            sorted(
                (e.type, e.actor, e.payload.get("status"))
                for e in (
                    await s.execute(select(Event).where(col(Event.resource_sid) == o.sid))
                ).scalars()
            )
            for o in orders
        ]
        deliveries = [
            sorted(
                d.channel
                for d in (
                    await s.execute(select(Delivery).where(col(Delivery.port_order_sid) == o.sid))
                ).scalars()
            )
            for o in orders
        ]
    assert len(orders) == 3 and kinds[1] == kinds[2] == kinds[0]
    assert deliveries[1] == deliveries[2] == deliveries[0] and deliveries[0]
    # a read-only token: refused by the view (the lane leaves it), nothing stored
    read = await access_token(apps.lane, alice.authorization, scope="read")
    stored = await snapshot(apps.svc)
    raw = camel(order_input())
    for _ in range(2):
        refused = await apps.lane.post(
            "/graphql", json={"query": CREATE, "variables": {"input": raw}}, headers=bearer(read)
        )
        assert refused.json()["errors"][0]["extensions"]["code"] == 20403
    assert await snapshot(apps.svc) == stored
