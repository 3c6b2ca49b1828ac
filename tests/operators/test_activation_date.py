"""setActivationDate: an operator's FOC change is an `activation_date_update` event with the
operator's SID; the same date again changes nothing; a closed order refuses it (21829)."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.context import Services
from tests.builders import Tenant
from tests.conftest import GraphQL, snapshot
from tests.operators.support import CANCEL, SET_ACTIVATION_DATE, create_order, events, stored

FOC = "2027-03-01T15:00:00Z"


async def set_foc(gql: GraphQL, who: Tenant, sid: str, when: str) -> dict[str, Any]:
    data = await gql(SET_ACTIVATION_DATE, {"sid": sid, "activationDate": when}, as_=who)
    result: dict[str, Any] = data["setActivationDate"]
    return result


async def test_an_foc_change_is_an_activation_date_update_event(
    gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)

    payload = await set_foc(gql, op, order["sid"], "2027-03-01T16:00:00+01:00")

    assert payload["userErrors"] == []
    assert payload["portOrder"]["activationDate"] == FOC
    assert payload["portOrder"]["status"] == order["status"]  # the FOC alone, no move
    last = (await events(gql, alice, order["sid"]))[-1]
    assert last == {
        "type": "port_order.activation_date_changed",
        "status": order["status"],
        "callbackType": ["activation_date_update"],
        "actor": "operator",
        "actorSid": op.sid,
    }


async def test_the_same_date_again_records_nothing(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)
    await set_foc(gql, op, order["sid"], FOC)
    before = await stored(svc, alice, order["sid"])

    payload = await set_foc(gql, op, order["sid"], FOC)

    assert payload["userErrors"] == []
    assert payload["portOrder"]["activationDate"] == FOC
    # No event and no change; only the optimistic-lock version moved (the row was claimed).
    after = await stored(svc, alice, order["sid"])
    assert after[1] == before[1]
    assert {**after[0], "version": None} == {**before[0], "version": None}


async def test_a_closed_order_refuses_an_foc_change(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)
    canceled = await gql(CANCEL, {"sid": order["sid"]}, as_=alice)
    assert canceled["cancelPortOrder"]["userErrors"] == []
    before, whole = await stored(svc, alice, order["sid"]), await snapshot(svc)

    payload = await set_foc(gql, op, order["sid"], FOC)

    assert payload["portOrder"] is None
    assert [e["code"] for e in payload["userErrors"]] == [21829]
    assert await stored(svc, alice, order["sid"]) == before
    assert await snapshot(svc) == whole


LITERAL = """mutation ($sid: ID!) {
  setActivationDate(sid: $sid, activationDate: "2027-03-01T15:00:00") { userErrors { code } }
}"""


async def test_a_date_without_a_zone_is_a_request_error_and_stores_nothing(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    order = await create_order(gql, alice)
    before = await stored(svc, alice, order["sid"])

    as_variable = await gql.post(
        SET_ACTIVATION_DATE, {"sid": order["sid"], "activationDate": "2027-03-01T15:00:00"}, as_=op
    )
    in_document = await gql.post(LITERAL, {"sid": order["sid"]}, as_=op)

    for response in (as_variable, in_document):
        body = response.json()
        assert body.get("data") is None
        assert "DateTime must be ISO 8601 with time and zone" in body["errors"][0]["message"]
        assert "03-01T15:00:00" not in response.text  # the value sent is not echoed
    assert not [r for r in caplog.records if r.name == "app.graphql"]  # not an unexpected error
    assert await stored(svc, alice, order["sid"]) == before
