"""Access tokens (issue 14, point 2): `POST /porting/AccessTokens` mints a signed JWT for browser
code; Bearer on REST and /graphql; expired or tampered: 20003; a `read` token cannot mutate;
a token restricted to one order or Port Request reaches only it (another SID: not found; a
list or another root field: 20403); a token minted with an API key dies with the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from app.config import Settings
from app.porting.isotime import parse_utc
from app.services import api_keys, credentials, port_orders, port_requests
from app.services.context import Services
from tests.access.support import ORDERS, TOKENS, access_token, api_key, bearer, graphql, key_auth
from tests.builders import Tenant, basic, order_input, request_input
from tests.conftest import snapshot

PORT_ORDER = "query($sid: ID!) { portOrder(sid: $sid) { sid loa { sid } } }"
RENAME = """
mutation($sid: ID!) {
  updatePortOrder(sid: $sid, input: {friendlyName: "Renamed"}) { portOrder { friendlyName } }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Verified credentials remembered, as in production (tests/conftest.py turns it off)."""
    return settings.model_copy(update={"auth_cache_seconds": 5.0})


async def test_a_token_is_minted_for_ten_minutes_and_acts_as_the_account(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    # when alice's backend mints a token with her auth token
    response = await http.post(TOKENS, headers={"Authorization": alice.authorization})
    # then it is a JWT for ten minutes, read_write by default, never cached by the browser
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    expires = parse_utc(body["expires_at"])
    assert expires is not None
    left = expires - datetime.now(UTC)
    assert timedelta(minutes=9) < left <= timedelta(minutes=10)
    assert body["scope"] == "read_write" and body["account_sid"] == alice.sid
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == alice.sid and claims["scope"] == "read_write"
    assert alice.token not in body["token"]
    # and the token reads and writes as alice, on REST and GraphQL
    token = body["token"]
    assert (await http.get(f"{ORDERS}/{order.sid}", headers=bearer(token))).status_code == 200
    data = await graphql(http, bearer(token), PORT_ORDER, sid=order.sid)
    assert data["data"]["portOrder"]["sid"] == order.sid
    renamed = await graphql(http, bearer(token), RENAME, sid=order.sid)
    assert renamed["data"]["updatePortOrder"]["portOrder"]["friendlyName"] == "Renamed"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ttl": 3601}, "ttl"),
        ({"ttl": -5}, "ttl"),
        ({"ttl": "soon"}, "ttl"),
        ({"scope": "admin"}, "scope"),
        ({"restriction": "AC" + "0" * 32}, "restriction"),
        ({"color": "red"}, None),
    ],
)
async def test_bad_parameters_are_refused(
    http: httpx.AsyncClient, alice: Tenant, params: dict[str, object], field: str | None
) -> None:
    response = await http.post(TOKENS, json=params, headers={"Authorization": alice.authorization})
    assert response.status_code == 400 and response.json()["code"] == 20001, response.text
    for value in params.values():
        assert str(value) not in response.json()["message"]


async def test_a_ttl_of_up_to_an_hour_is_honoured(http: httpx.AsyncClient, alice: Tenant) -> None:
    response = await http.post(
        TOKENS, json={"ttl": 3600}, headers={"Authorization": alice.authorization}
    )
    expires = parse_utc(response.json()["expires_at"])
    assert expires is not None
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)


async def test_expired_tampered_or_foreign_tokens_get_20003(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    token = await access_token(http, alice.authorization)
    claims = jwt.decode(token, options={"verify_signature": False})
    key = credentials._signing_key(svc)
    now = int(datetime.now(UTC).timestamp())
    expired = jwt.encode({**claims, "iat": now - 120, "exp": now - 60}, key, algorithm="HS256")
    upgraded = jwt.encode({**claims, "sub": "AC" + "1" * 32}, "another key " * 4, algorithm="HS256")
    head, body, sig = token.split(".")
    flipped = f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    unsigned = jwt.encode(claims, "", algorithm="none")
    for bad in (expired, upgraded, flipped, unsigned, "not.a.jwt"):
        rest = await http.get(ORDERS, headers=bearer(bad))
        assert rest.status_code == 401 and rest.json()["code"] == 20003
        gql = await http.post("/graphql", json={"query": "{ __typename }"}, headers=bearer(bad))
        assert gql.status_code == 401
        assert gql.json()["errors"][0]["extensions"]["code"] == 20003


async def test_a_read_token_cannot_mutate_and_nothing_is_stored(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    token = await access_token(http, alice.authorization, scope="read")
    assert (await http.get(ORDERS, headers=bearer(token))).status_code == 200
    before = await snapshot(svc)
    rest = await http.post(ORDERS, json=order_input(), headers=bearer(token))
    gql = await graphql(http, bearer(token), RENAME, sid=order.sid)
    assert rest.status_code == 403 and rest.json()["code"] == 20403
    assert gql["data"] is None and gql["errors"][0]["extensions"]["code"] == 20403
    # and a read token cannot mint a read_write one
    again = await http.post(TOKENS, headers=bearer(token))
    assert again.status_code == 403
    assert await snapshot(svc) == before


async def test_a_read_only_key_mints_read_tokens_only(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    sid, secret = await api_key(svc, alice, read_only=True)
    refused = await http.post(TOKENS, headers=key_auth(sid, secret))
    assert refused.status_code == 403 and refused.json()["code"] == 20403
    minted = await http.post(TOKENS, json={"scope": "read"}, headers=key_auth(sid, secret))
    assert minted.status_code == 201


async def test_a_token_restricted_to_one_order_reaches_only_it(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    # given two orders of alice's and a token restricted to the first
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    other = await port_orders.create_port_order(
        svc, alice.caller, order_input(first_name="Ada", last_name="Byron")
    )
    token = await access_token(http, alice.authorization, restriction=mine.sid)
    auth = bearer(token)
    # then the order and its LOA are reachable
    assert (await http.get(f"{ORDERS}/{mine.sid}", headers=auth)).status_code == 200
    assert (await http.get(f"/porting/Loas/{mine.loa_sid}", headers=auth)).status_code == 200
    data = await graphql(http, bearer(token), PORT_ORDER, sid=mine.sid)
    assert data["data"]["portOrder"] == {"sid": mine.sid, "loa": {"sid": mine.loa_sid}}
    loa = await graphql(
        http, bearer(token), "query($s: ID!) { loa(sid: $s) { status } }", s=mine.loa_sid
    )
    assert loa["data"]["loa"]["status"] == "OPEN"
    # and the other order answers as if it did not exist
    missing = await http.get(f"{ORDERS}/{other.sid}", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == 20404
    hidden = await graphql(http, bearer(token), PORT_ORDER, sid=other.sid)
    assert hidden["errors"][0]["extensions"]["code"] == 20404 and hidden["data"] is None
    loa_other = await http.get(f"/porting/Loas/{other.loa_sid}", headers=auth)
    assert loa_other.status_code == 404
    # and lists, creates, other root fields and the LOA's other orders are forbidden
    before = await snapshot(svc)
    for response in (
        await http.get(ORDERS, headers=auth),
        await http.post(ORDERS, json=order_input(), headers=auth),
        await http.get("/porting/Loas", headers=auth),
    ):
        assert response.status_code == 403 and response.json()["code"] == 20403
    for query in (
        "{ portOrders { totalCount } }",
        "{ loas { totalCount } }",
        "query($s: ID!) { portOrder(sid: $s) { loa { portOrders { totalCount } } } }",
        "mutation { createApiKey { secret } }",
    ):
        refused = await graphql(http, bearer(token), query, s=mine.sid)
        assert refused["errors"][0]["extensions"]["code"] == 20403, (query, refused)
    assert await snapshot(svc) == before
    # and the order itself may be changed (read_write)
    renamed = await graphql(http, bearer(token), RENAME, sid=mine.sid)
    assert renamed["data"]["updatePortOrder"]["portOrder"]["friendlyName"] == "Renamed"


async def test_a_token_restricted_to_a_port_request_reaches_its_orders(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    view = await port_requests.create_port_request(svc, alice.caller, request_input())
    outside = await port_orders.create_port_order(svc, alice.caller, order_input())
    token = await access_token(http, alice.authorization, restriction=view.row.sid, scope="read")
    auth = bearer(token)
    assert view.numbers is not None
    inside = next(n.port_order_sid for n in view.numbers if n.port_order_sid)
    assert (
        await http.get(f"/porting/PortRequests/{view.row.sid}", headers=auth)
    ).status_code == 200
    assert (await http.get(f"{ORDERS}/{inside}", headers=auth)).status_code == 200
    listed = await http.get(ORDERS, params={"PortRequestSid": view.row.sid}, headers=auth)
    assert listed.status_code == 200 and len(listed.json()["orders"]) == 3
    assert (await http.get(f"{ORDERS}/{outside.sid}", headers=auth)).status_code == 404
    assert (await http.get(ORDERS, headers=auth)).status_code == 403
    q = "query($s: ID!) { portRequest(sid: $s) { portOrders { totalCount } } }"
    data = await graphql(http, bearer(token), q, s=view.row.sid)
    assert data["data"]["portRequest"]["portOrders"]["totalCount"] == 3


async def test_restricting_to_an_order_the_caller_cannot_see_is_not_found(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    bobs = await port_orders.create_port_order(svc, bob.caller, order_input())
    response = await http.post(
        TOKENS, json={"restriction": bobs.sid}, headers={"Authorization": alice.authorization}
    )
    assert response.status_code == 404 and response.json()["code"] == 20404


async def test_a_token_minted_with_an_api_key_dies_with_the_key(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    sid, secret = await api_key(svc, alice)
    token = await access_token(http, basic(sid, secret))
    assert (await http.get(ORDERS, headers=bearer(token))).status_code == 200
    await api_keys.revoke_api_key(svc, alice.caller, sid)
    refused = await http.get(ORDERS, headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["code"] == 20003


async def test_operators_and_tokens_cannot_mint_tokens(
    http: httpx.AsyncClient, alice: Tenant, op: Tenant
) -> None:
    by_operator = await http.post(TOKENS, headers={"Authorization": op.authorization})
    assert by_operator.status_code == 403
    token = await access_token(http, alice.authorization)
    by_token = await http.post(TOKENS, headers=bearer(token))
    assert by_token.status_code == 403
