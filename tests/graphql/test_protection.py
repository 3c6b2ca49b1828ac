"""Protection: depth, alias and token limits refused before any database work; bounded parser
and validation caches; no field suggestions; introspection configurable; unexpected errors
masked and logged without secrets; client errors never echo the values sent; page sizes capped."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import httpx
import pytest

from app.config import Settings
from app.graphql.cost import Shape, estimate
from app.graphql.documents import CACHE_SIZE
from app.graphql.schema import Schema, build_schema
from app.main import App, create_app
from app.services import port_orders, reads
from app.services.context import Services
from tests.builders import Tenant, mobile_input
from tests.conftest import GraphQL, snapshot
from tests.graphql.support import counting

LEVEL = "portOrders { edges { node { loa { "  # four levels
DEEP = "{ " + LEVEL * 4 + "sid" + " } } } }" * 4 + " }"  # depth 17
MANY_ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
MANY_TOKENS = "{ " + " ".join("__typename" for _ in range(2100)) + " }"
INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (DEEP, "exceeds maximum operation depth of 12"),
        (MANY_ALIASES, "31 aliases found. Allowed: 30"),
        (MANY_TOKENS, "Document contains more than 2000 tokens"),
    ],
)
async def test_a_request_over_a_limit_gets_a_clear_error_and_costs_no_database_work(
    svc: Services, gql: GraphQL, alice: Tenant, query: str, message: str
) -> None:
    # given valid credentials, and what authenticating them costs
    with counting(svc) as auth:
        await gql("{ __typename }", as_=alice)
    # and a document over one of the limits
    with counting(svc) as statements:
        # when it is posted
        response = await gql.post(query, as_=alice)
    # then it is refused with a clear message, with no statement past authentication
    body = response.json()
    assert body.get("data") is None
    assert message in body["errors"][0]["message"]
    assert statements.count == auth.count


async def test_within_the_limits_the_same_shapes_run(gql: GraphQL, alice: Tenant) -> None:
    data = await gql("{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }", as_=alice)
    assert len(data) == 30


async def test_no_field_suggestions(gql: GraphQL, alice: Tenant) -> None:
    errors = await gql.errors("{ portOrderz { totalCount } }", as_=alice)
    assert errors[0]["message"] == "Cannot query field 'portOrderz' on type 'Query'."
    errors = await gql.errors(
        "mutation { createPortOrder(input: {portType: MOBIL}) { userErrors { code } } }", as_=alice
    )
    assert "Did you mean" not in errors[0]["message"]


async def test_client_errors_do_not_echo_the_values_sent(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given write-only values of the wrong type
    query = """mutation ($input: CreatePortOrderInput!) {
      createPortOrder(input: $input) { userErrors { code } } }"""
    variables = {"input": {"ssnLastFour": 987654, "pinNumber": {"pin": "SECRETPIN"}}}
    before = await snapshot(svc)
    response = await gql.post(query, variables, as_=alice)
    # then the errors name the fields, not the values
    assert "ssnLastFour" in response.text and "pinNumber" in response.text
    assert "987654" not in response.text and "SECRETPIN" not in response.text
    assert await snapshot(svc) == before


async def test_introspection_can_be_turned_off(
    settings: Settings, svc: Services, alice: Tenant
) -> None:
    # given introspection is on by default
    app = create_app(settings, svc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        data = await GraphQL(c)(INTROSPECTION, as_=alice)
        assert data["__schema"]["queryType"]["name"] == "Query"
    # when a deployment turns it off
    closed = create_app(settings.model_copy(update={"graphql_introspection": False}), svc)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=closed), base_url="http://t"
    ) as c:
        gql = GraphQL(c)
        # then introspection is refused, and ordinary queries still run
        for query in (INTROSPECTION, '{ __type(name: "PortOrder") { name } }'):
            errors = await gql.errors(query, as_=alice)
            assert "introspection" in errors[0]["message"].lower()
        assert await gql("{ portOrders { totalCount } }", as_=alice) == {
            "portOrders": {"totalCount": 0}
        }


async def test_parse_and_validation_are_cached_by_the_documents_hash_and_bounded(
    app: App, gql: GraphQL, alice: Tenant
) -> None:
    assert app.graphql is not None
    schema = app.graphql.schema
    assert isinstance(schema, Schema)
    documents = schema.documents
    # the same document twice: the second is a cache hit (neither parsed nor validated)
    query = "{ portOrders(first: 3) { totalCount } }"
    await gql(query, as_=alice)
    cache = documents.of(schema._schema)
    hits, misses = cache.hits, cache.misses
    await gql(query, as_=alice)
    assert (cache.hits, cache.misses) == (hits + 1, misses)
    # a refused document is cached with its errors, and answered the same way again
    for _ in range(2):
        errors = await gql.errors("{ portOrderz { totalCount } }", as_=alice)
        assert errors[0]["message"] == "Cannot query field 'portOrderz' on type 'Query'."
    assert cache.hits == hits + 2
    # and the cache is bounded: many different documents keep at most CACHE_SIZE of them
    for i in range(CACHE_SIZE + 20):
        await gql(f"{{ a{i}: __typename }}", as_=alice)
    assert len(cache) == CACHE_SIZE


async def test_an_unknown_fragment_is_a_validation_error_not_a_crash(
    gql: GraphQL, alice: Tenant
) -> None:
    errors = await gql.errors("{ ...Nope }", as_=alice)
    assert errors[0]["message"] == "Unknown fragment 'Nope'."


async def test_unexpected_errors_are_masked_and_logged_without_secrets(
    svc: Services,
    gql: GraphQL,
    alice: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a service that fails in a way nobody expected
    async def broken(*args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("connection to internal-db-7 refused")

    monkeypatch.setattr(reads, "list_port_orders", broken)
    monkeypatch.setattr(port_orders, "create_port_order", broken)
    caplog.set_level(logging.ERROR, logger="app.graphql")
    # when a query and a mutation carrying write-only values hit it
    response = await gql.post("{ portOrders { totalCount } }", as_=alice)
    # then the client sees a masked error at the field's path
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error." and error["path"] == ["portOrders"]
    assert "internal-db" not in response.text
    raw = mobile_input(account_number="ACCT-SECRET-5544", pin_number="PINSECRET9")
    variables = {
        "input": {
            "number": raw["number"],
            "portType": "MOBILE",
            "accountNumber": raw["account_number"],
            "pinNumber": raw["pin_number"],
            "ssnLastFour": "8642",
        }
    }
    response = await gql.post(
        """mutation ($input: CreatePortOrderInput!) {
             createPortOrder(input: $input) { userErrors { code } } }""",
        variables,
        as_=alice,
    )
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    # and the log says where and what, with none of the secrets or credentials
    logged = caplog.text
    assert "portOrders" in logged and "createPortOrder" in logged and "RuntimeError" in logged
    for secret in ("ACCT-SECRET-5544", "PINSECRET9", "8642", alice.authorization.split()[1]):
        assert secret not in logged


@pytest.mark.parametrize(
    "args",
    [
        {"first": 101},
        {"last": 101},
        {"first": 0},
        {"first": -1},
        {"first": 5, "last": 5},
        {"first": 5, "before": "PO" + "0" * 32},
        {"last": 5, "after": "PO" + "0" * 32},
    ],
)
async def test_page_sizes_are_capped_and_directions_not_mixed(
    gql: GraphQL, alice: Tenant, args: dict[str, Any]
) -> None:
    query = """query ($first: Int, $after: String, $last: Int, $before: String) {
      portOrders(first: $first, after: $after, last: $last, before: $before) { totalCount } }"""
    variables = {"first": None, "after": None, "last": None, "before": None, **args}
    errors = await gql.errors(query, variables, as_=alice)
    assert errors[0]["extensions"] == {"code": 20001}
    assert errors[0]["message"] != "Unexpected error."


def fan_out(levels: int) -> str:
    spreads = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"{{ ...F0 }} {spreads} fragment F{levels} on Query {{ __typename }}"


@pytest.mark.parametrize("levels", [20, 30])
def test_our_rules_visit_each_fragment_once_however_it_fans_out(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, levels: int
) -> None:
    # given the fan-out document: 2^levels paths to its last fragment
    schema = build_schema(settings)
    seen: list[str] = []
    level = Shape.level

    def counted(self: Shape, selections: Any, parent: Any) -> Any:
        seen.append("level")
        return level(self, selections, parent)

    monkeypatch.setattr(Shape, "level", counted)
    selections = 0
    original = Shape.field

    def field(self: Shape, node: Any, parent: Any) -> Any:
        nonlocal selections
        selections += 1
        return original(self, node, parent)

    monkeypatch.setattr(Shape, "field", field)
    # when it is validated (and priced)
    prepared = schema.documents.of(schema._schema).prepare(fan_out(levels))
    assert prepared.errors == ()
    assert prepared.document is not None
    nodes = estimate(schema._schema, prepared.document, None, None)
    # then one walk per operation and pass, each fragment's fields visited once: a handful of
    # steps, not 2^levels (the spreads merge at one level, as execution merges them)
    assert nodes == 0
    assert len(seen) == 2 and selections == 2
