"""Protection: depth, alias and token limits refused before any database work; bounded parser
and validation caches; no field suggestions; introspection configurable; unexpected errors
masked and logged without secrets; client errors never echo the values sent; page sizes capped."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, NoReturn, cast

import httpx
import pytest
from strawberry.extensions import ParserCache, ValidationCache

from app.config import Settings
from app.graphql.extensions import CACHE_SIZE
from app.graphql.schema import build_schema
from app.main import create_app
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


def cache_info(cached: Callable[..., Any]) -> functools._CacheInfo:
    """The statistics of an lru_cache'd function (typed as a plain callable)."""
    return cast("functools._lru_cache_wrapper[Any]", cached).cache_info()


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
    # given valid credentials and a document over one of the limits
    with counting(svc) as statements:
        # when it is posted
        response = await gql.post(query, as_=alice)
    # then it is refused with a clear message, before any statement (authentication included)
    body = response.json()
    assert body.get("data") is None
    assert message in body["errors"][0]["message"]
    assert statements.count == 0


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


async def test_parser_and_validation_caches_are_bounded_and_used(
    settings: Settings, gql: GraphQL, alice: Tenant
) -> None:
    schema = build_schema(settings)
    made = [factory() for factory in schema.extensions]
    parser = next(e for e in made if isinstance(e, ParserCache))
    validation = next(e for e in made if isinstance(e, ValidationCache))
    assert cache_info(parser.cached_parse_document).maxsize == CACHE_SIZE
    assert cache_info(validation.cached_validate_document).maxsize == CACHE_SIZE
    # the same document twice: the second validation is a cache hit
    query = "{ portOrders(first: 3) { totalCount } }"
    await gql(query, as_=alice)
    hits = cache_info(validation.cached_validate_document).hits
    await gql(query, as_=alice)
    assert cache_info(validation.cached_validate_document).hits == hits + 1


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
