"""Operators over /graphql: HTTP Basic `OperatorSid:token`, every account visible, and the
operator mutations. An account calling one gets the userError 20403; an operator's move outside
the transition table is 21822; neither stores anything. Every operator action is in the event
log with the operator's SID. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.context import Services
from tests.builders import Tenant
from tests.conftest import GraphQL, snapshot
from tests.operators.support import (
    PORT_ORDERS_BY_ACCOUNT,
    SET_ACTIVATION_DATE,
    SET_STATUS,
    create_order,
    events,
    references_mutation,
    set_status,
    stored,
)

FOC = "2027-03-01T15:00:00Z"

OPERATOR_CALLS: list[Any] = [
    pytest.param(SET_STATUS, {"status": "REVIEW"}, "setPortOrderStatus", id="setPortOrderStatus"),
    pytest.param(
        SET_ACTIVATION_DATE, {"activationDate": FOC}, "setActivationDate", id="setActivationDate"
    ),
    pytest.param(
        references_mutation("providerSid", "zendeskId"),
        {"providerSid": "PR-1", "zendeskId": "ZD-1"},
        "setPortOrderReferences",
        id="setPortOrderReferences",
    ),
]


@pytest.mark.parametrize(("document", "variables", "name"), OPERATOR_CALLS)
async def test_an_account_gets_20403_and_nothing_is_stored(
    svc: Services,
    gql: GraphQL,
    alice: Tenant,
    document: str,
    variables: dict[str, Any],
    name: str,
) -> None:
    order = await create_order(gql, alice)
    before, whole = await stored(svc, alice, order["sid"]), await snapshot(svc)

    data = await gql(document, {"sid": order["sid"], **variables}, as_=alice)

    payload = data[name]
    assert payload["portOrder"] is None
    assert [e["code"] for e in payload["userErrors"]] == [20403]
    assert await stored(svc, alice, order["sid"]) == before
    assert await snapshot(svc) == whole


async def test_a_refused_move_is_21822_and_nothing_is_stored(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)  # PENDING
    before, whole = await stored(svc, alice, order["sid"]), await snapshot(svc)

    payload = await set_status(gql, op, order["sid"], "COMPLETED")

    assert payload["portOrder"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(21822, ["status"])]
    assert await stored(svc, alice, order["sid"]) == before
    assert await snapshot(svc) == whole


async def test_an_unknown_error_code_is_refused_and_nothing_is_stored(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)
    before = await stored(svc, alice, order["sid"])

    payload = await set_status(gql, op, order["sid"], "FAILED", errorCode=99999)

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(20001, ["errorCode"])]
    assert await stored(svc, alice, order["sid"]) == before


async def test_an_unknown_order_is_20404(gql: GraphQL, op: Tenant) -> None:
    payload = await set_status(gql, op, "PO" + "0" * 32, "REVIEW")
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(20404, ["sid"])]


async def test_operator_moves_are_logged_with_the_operator_sid(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)

    review = await set_status(
        gql, op, order["sid"], "REVIEW", reasonCode=21831, reason="Carrier asked for a look"
    )
    assert review["userErrors"] == []
    assert review["portOrder"]["status"] == "REVIEW"
    assert review["portOrder"]["reasonCode"] == 21831
    assert review["portOrder"]["reason"] == "Carrier asked for a look"
    failed = await set_status(gql, op, order["sid"], "FAILED", errorCode=21835)
    assert failed["userErrors"] == []
    assert failed["portOrder"]["status"] == "FAILED"
    assert [e["code"] for e in failed["portOrder"]["errors"]] == [21835]

    # The owner reads the same timeline: who moved the order, and which operator.
    timeline = await events(gql, alice, order["sid"])
    assert [(e["status"], e["actor"], e["actorSid"]) for e in timeline] == [
        ("CREATED", "customer", alice.sid),
        ("PENDING", "service", None),
        ("REVIEW", "operator", op.sid),
        ("FAILED", "operator", op.sid),
    ]
    assert timeline[-1]["callbackType"] == ["status_update"]


async def test_an_operator_sees_every_account(
    gql: GraphQL, alice: Tenant, bob: Tenant, op: Tenant
) -> None:
    mine = await create_order(gql, alice)
    theirs = await create_order(gql, bob)

    data = await gql(PORT_ORDERS_BY_ACCOUNT, {}, as_=op)
    assert {e["node"]["sid"] for e in data["portOrders"]["edges"]} == {mine["sid"], theirs["sid"]}
    assert data["portOrders"]["totalCount"] == 2

    data = await gql(PORT_ORDERS_BY_ACCOUNT, {}, as_=alice)
    assert [e["node"]["sid"] for e in data["portOrders"]["edges"]] == [mine["sid"]]
    node = await gql(
        "query ($id: ID!) { node(id: $id) { id ... on PortOrder { accountSid } } }",
        {"id": theirs["sid"]},
        as_=op,
    )
    assert node["node"] == {"id": theirs["sid"], "accountSid": bob.sid}


async def test_wrong_operator_credentials_are_401(gql: GraphQL, op: Tenant) -> None:
    wrong = Tenant(op.caller, "not-the-token")
    response = await gql.post("{ portOrders { totalCount } }", as_=wrong)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == 20003
