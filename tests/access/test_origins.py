"""CORS and CSRF (issue 14, point 3): an allowed origin gets its preflight and CORS headers on
/graphql and /porting; other origins get none; a state-changing request from another origin
(or `Sec-Fetch-Site: cross-site`) is refused with 20403 before any work, and stores nothing;
requests without an Origin (curl) and same-origin pages keep working."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from app.services.context import Services
from tests.access.support import ORDERS
from tests.builders import Tenant, camel, order_input
from tests.conftest import snapshot

pytestmark = pytest.mark.dialects("sqlite")  # middleware: the same on both dialects
APP_ORIGIN = "http://app.example.test"
EVIL = "https://evil.example"
CREATE = """
mutation($input: CreatePortOrderInput!) { createPortOrder(input: $input) { portOrder { sid } } }
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cors_allowed_origins": [APP_ORIGIN]})


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("path", ["/graphql", ORDERS, "/porting/PortOrders/PO" + "0" * 32])
async def test_an_allowed_origins_preflight_is_answered(http: httpx.AsyncClient, path: str) -> None:
    response = await http.options(path, headers=preflight(APP_ORIGIN))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"] == "Origin"


@pytest.mark.parametrize("path", ["/graphql", ORDERS])
async def test_another_origins_preflight_gets_no_cors_headers(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.options(path, headers=preflight(EVIL))
    assert response.status_code == 403
    assert not any(h.startswith("access-control-") for h in response.headers)


async def test_responses_carry_cors_headers_for_the_allowed_origin_only(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    mine = await http.get(ORDERS, headers={**auth, "Origin": APP_ORIGIN})
    assert mine.status_code == 200
    assert mine.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "X-Request-Id" in mine.headers["access-control-expose-headers"]
    theirs = await http.get(ORDERS, headers={**auth, "Origin": EVIL})
    assert theirs.status_code == 200  # a read: the browser will not let the page see it
    assert not any(h.startswith("access-control-") for h in theirs.headers)
    # and a POST from the allowed origin works, with its headers
    gql = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={**auth, "Origin": APP_ORIGIN}
    )
    assert gql.status_code == 200 and gql.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_a_cross_site_form_post_is_refused_before_any_work_and_stores_nothing(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    before = await snapshot(svc)
    form = {k: str(v) for k, v in order_input().items()}
    cases = [
        # the attack of the issue: a form POST from another site with cached Basic credentials
        ({"Origin": EVIL, "Authorization": alice.authorization}, ORDERS, {"data": form}),
        # no Origin, but the browser says it is cross-site
        (
            {"Sec-Fetch-Site": "cross-site", "Authorization": alice.authorization},
            ORDERS,
            {"data": form},
        ),
        # GraphQL mutation from another origin
        (
            {"Origin": EVIL, "Authorization": alice.authorization},
            "/graphql",
            {"json": {"query": CREATE, "variables": {"input": camel(order_input())}}},
        ),
        # before the body is read or credentials are checked: junk body, wrong credentials
        ({"Origin": EVIL, "Authorization": "Basic eDp5"}, ORDERS, {"content": b"{" * 5_000_000}),
        ({"Origin": EVIL}, f"{ORDERS}/PO{'0' * 32}", {"data": {"FriendlyName": "x"}}),
    ]
    for headers, path, body in cases:
        response = await http.post(path, headers=headers, **body)  # type: ignore[arg-type]
        assert response.status_code == 403, (headers, response.text)
        payload = response.json()
        code = (
            payload["code"]
            if path.startswith("/porting")
            else payload["errors"][0]["extensions"]["code"]
        )
        assert code == 20403
        assert EVIL not in response.text
        assert not any(h.startswith("access-control-") for h in response.headers)
    deleted = await http.delete(f"{ORDERS}/PO{'0' * 32}", headers={"Origin": EVIL})
    assert deleted.status_code == 403
    assert await snapshot(svc) == before


async def test_curl_and_same_origin_pages_keep_working(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    curl = await http.post(ORDERS, data={k: str(v) for k, v in order_input().items()}, headers=auth)
    assert curl.status_code == 201, curl.text
    same = await http.post(
        ORDERS, json=order_input(), headers={**auth, "Origin": "http://testserver"}
    )
    assert same.status_code == 201, same.text
    allowed = await http.post(
        ORDERS,
        json=order_input(),
        headers={**auth, "Origin": APP_ORIGIN, "Sec-Fetch-Site": "cross-site"},
    )
    assert allowed.status_code == 201
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
