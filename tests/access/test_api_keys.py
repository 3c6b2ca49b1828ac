"""API keys (issue 14, point 1): `SK...:secret` acts as the account; read-only keys cannot
mutate (20403, nothing stored); a revoked key stops working; GraphQL createApiKey/revokeApiKey
for accounts, with the account's own auth token."""

from __future__ import annotations

import re

import httpx
import pytest

from app.config import Settings
from app.services import api_keys, port_orders
from app.services.context import Services
from app.store import access
from tests.access.support import ORDERS, api_key, key_auth, listening
from tests.builders import Tenant, basic, camel, order_input
from tests.conftest import GraphQL, snapshot

SK = re.compile(r"^SK[0-9a-f]{32}$")
CREATE_KEY = """
mutation($name: String, $readOnly: Boolean!) {
  createApiKey(friendlyName: $name, readOnly: $readOnly) {
    apiKey { sid accountSid friendlyName readOnly dateRevoked } secret userErrors { code field }
  }
}
"""
REVOKE_KEY = """
mutation($sid: ID!) { revokeApiKey(sid: $sid) { apiKey { sid dateRevoked } userErrors { code } } }
"""
CREATE_ORDER = """
mutation($input: CreatePortOrderInput!) {
  createPortOrder(input: $input) { portOrder { sid } userErrors { code } }
}
"""
COUNT = "{ portOrders { totalCount } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Verified credentials remembered, as in production (tests/conftest.py turns it off)."""
    return settings.model_copy(update={"auth_cache_seconds": 5.0})


async def test_a_key_acts_as_its_account_on_rest_and_graphql(
    http: httpx.AsyncClient, gql: GraphQL, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    # given an order of alice's and one of bob's, and a key of alice's
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    await port_orders.create_port_order(svc, bob.caller, order_input())
    sid, secret = await api_key(svc, alice)
    assert SK.match(sid) and re.fullmatch(r"[0-9a-f]{32}", secret)
    # when the key lists orders (REST) and counts them (GraphQL)
    listed = await http.get(ORDERS, headers=key_auth(sid, secret))
    counted = await http.post("/graphql", json={"query": COUNT}, headers=key_auth(sid, secret))
    # then it sees alice's order only, as alice would
    assert listed.status_code == 200
    assert [o["sid"] for o in listed.json()["orders"]] == [mine.sid]
    assert counted.json() == {"data": {"portOrders": {"totalCount": 1}}}
    # and it can create an order as alice
    made = await http.post(ORDERS, json=order_input(), headers=key_auth(sid, secret))
    assert made.status_code == 201 and made.json()["account_sid"] == alice.sid
    # and the secret is not stored: only its keyed hash
    async with svc.db.read() as s:
        row = await access.api_key(s, sid)
    assert row is not None and secret not in row.secret_hash and len(row.secret_hash) == 64


async def test_a_wrong_secret_or_unknown_key_is_refused(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    sid, _ = await api_key(svc, alice)
    for header in (basic(sid, "0" * 32), basic("SK" + "0" * 32, "0" * 32)):
        response = await http.get(ORDERS, headers={"Authorization": header})
        assert response.status_code == 401 and response.json()["code"] == 20003


async def test_a_read_only_key_reads_but_cannot_mutate(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    # given a read-only key and an order
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    sid, secret = await api_key(svc, alice, read_only=True)
    auth = key_auth(sid, secret)
    # when it reads: fine
    assert (await http.get(f"{ORDERS}/{order.sid}", headers=auth)).status_code == 200
    checked = await http.post(
        "/porting/PortabilityChecks", json={"numbers": ["+14155550199"]}, headers=auth
    )
    assert checked.status_code == 200  # a check stores nothing: a read
    before = await snapshot(svc)
    # when it creates, updates, cancels (REST) or mutates (GraphQL)
    answers = [
        await http.post(ORDERS, json=order_input(), headers=auth),
        await http.post(f"{ORDERS}/{order.sid}", json={"friendly_name": "x"}, headers=auth),
        await http.delete(f"{ORDERS}/{order.sid}", headers=auth),
    ]
    mutation = await http.post(
        "/graphql",
        json={"query": CREATE_ORDER, "variables": {"input": camel(order_input())}},
        headers=auth,
    )
    # then each is 20403 and nothing is stored
    for response in answers:
        assert response.status_code == 403 and response.json()["code"] == 20403, response.text
    assert mutation.json()["errors"][0]["extensions"]["code"] == 20403
    assert mutation.json()["data"] is None
    assert await snapshot(svc) == before


async def test_a_revoked_key_stops_working_at_once(
    http: httpx.AsyncClient, gql: GraphQL, svc: Services, alice: Tenant
) -> None:
    # given a key that was just used (on PostgreSQL this process remembers it as verified: the
    # bus hears every process; on SQLite keys are never kept, since the CLI's revocation
    # could not reach this process)
    await listening(svc)
    sid, secret = await api_key(svc, alice)
    assert (await http.get(ORDERS, headers=key_auth(sid, secret))).status_code == 200
    assert len(svc.credentials) == (1 if svc.bus.cross_process else 0)
    # when alice revokes it over GraphQL
    data = await gql(REVOKE_KEY, {"sid": sid}, as_=alice)
    assert data["revokeApiKey"]["userErrors"] == []
    assert data["revokeApiKey"]["apiKey"]["dateRevoked"] is not None
    # then the key is refused on the next request
    refused = await http.get(ORDERS, headers=key_auth(sid, secret))
    assert refused.status_code == 401 and refused.json()["code"] == 20003


async def test_graphql_creates_a_key_whose_secret_is_shown_once(
    http: httpx.AsyncClient, gql: GraphQL, svc: Services, alice: Tenant
) -> None:
    # when alice creates a read-only key
    data = await gql(CREATE_KEY, {"name": "Dashboard", "readOnly": True}, as_=alice)
    made = data["createApiKey"]
    assert made["userErrors"] == []
    key = made["apiKey"]
    assert SK.match(key["sid"]) and key["accountSid"] == alice.sid
    assert key["friendlyName"] == "Dashboard" and key["readOnly"] is True
    # then the secret works, read-only
    auth = key_auth(key["sid"], made["secret"])
    assert (await http.get(ORDERS, headers=auth)).status_code == 200
    assert (await http.post(ORDERS, json=order_input(), headers=auth)).status_code == 403
    # and no listing shows it again
    listed = await api_keys.list_api_keys(svc, alice.sid)
    assert [k.sid for k in listed] == [key["sid"]]
    assert made["secret"] not in repr(listed)


async def test_keys_are_managed_with_the_accounts_own_token_only(
    http: httpx.AsyncClient, gql: GraphQL, svc: Services, alice: Tenant, bob: Tenant, op: Tenant
) -> None:
    sid, secret = await api_key(svc, alice)
    bobs, _ = await api_key(svc, bob)
    before = await snapshot(svc)
    # an operator, an API key, and another account's key SID
    as_operator = await gql(CREATE_KEY, {"readOnly": False}, as_=op)
    with_key = await http.post(
        "/graphql",
        json={"query": CREATE_KEY, "variables": {"readOnly": False}},
        headers=key_auth(sid, secret),
    )
    others = await gql(REVOKE_KEY, {"sid": bobs}, as_=alice)
    too_long = await gql(CREATE_KEY, {"name": "n" * 65, "readOnly": False}, as_=alice)
    # are refused, and nothing changes
    assert as_operator["createApiKey"]["userErrors"][0]["code"] == 20403
    assert with_key.json()["data"]["createApiKey"]["userErrors"][0]["code"] == 20403
    assert others["revokeApiKey"]["userErrors"][0]["code"] == 20404
    assert too_long["createApiKey"]["userErrors"] == [{"code": 20002, "field": ["friendlyName"]}]
    assert await snapshot(svc) == before
