"""HTTP Basic on /graphql, and GraphiQL for a browser."""

from __future__ import annotations

import httpx

from tests.builders import Tenant, basic

TYPENAME = "{ __typename }"
ORDERS = "{ portOrders(first: 1) { totalCount } }"


async def test_a_request_without_credentials_gets_401_with_the_basic_challenge(
    http: httpx.AsyncClient,
) -> None:
    # given no Authorization header
    # when a query is posted
    response = await http.post("/graphql", json={"query": ORDERS})
    # then it is refused with the challenge and a GraphQL-shaped body
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="Portico"'
    assert response.json()["errors"][0]["extensions"] == {"code": 20003}


async def test_wrong_or_malformed_credentials_get_401(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    # given credentials of a real account with a wrong token, an unknown SID, and junk
    headers = [
        basic(alice.sid, "wrong-token"),
        basic("AC" + "0" * 32, "whatever"),
        "Basic not-base64!",
        "Bearer abc",
    ]
    for header in headers:
        # when a query is posted with them
        response = await http.post(
            "/graphql", json={"query": ORDERS}, headers={"Authorization": header}
        )
        # then each is refused the same way
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"] == 'Basic realm="Portico"'
        assert "data" not in response.json() or response.json()["data"] is None


async def test_valid_credentials_run_the_query(http: httpx.AsyncClient, alice: Tenant) -> None:
    response = await http.post(
        "/graphql", json={"query": ORDERS}, headers={"Authorization": alice.authorization}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"portOrders": {"totalCount": 0}}}


async def test_a_query_over_get_works_but_a_mutation_over_get_does_not(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    auth = {"Authorization": alice.authorization}
    response = await http.get("/graphql", params={"query": TYPENAME}, headers=auth)
    assert response.json() == {"data": {"__typename": "Query"}}
    mutation = 'mutation { cancelPortOrder(sid: "PO0") { userErrors { code } } }'
    response = await http.get("/graphql", params={"query": mutation}, headers=auth)
    assert response.status_code == 400


async def test_a_browser_gets_graphiql_without_credentials(http: httpx.AsyncClient) -> None:
    # given a browser asking for HTML
    response = await http.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml"})
    # then GraphiQL is served, with its assets from this server (no network needed)
    assert response.status_code == 200
    assert "GraphiQL" in response.text
    assert "unpkg.com" not in response.text and "cdn" not in response.text.lower()
    for asset in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js"):
        assert f"graphql/static/{asset}" in response.text
        served = await http.get(f"/graphql/static/{asset}")
        assert served.status_code == 200 and len(served.content) > 1000


async def test_a_get_that_is_not_from_a_browser_needs_credentials(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"Accept": "application/json"})
    assert response.status_code == 401


async def test_a_script_in_a_browser_page_gets_401_without_the_login_dialog(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    # given a fetch() from a page (GraphiQL's, or a frontend's), without or with bad credentials
    fetch = {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"}
    for extra in ({}, {"Authorization": basic(alice.sid, "wrong")}):
        response = await http.post("/graphql", json={"query": ORDERS}, headers=fetch | extra)
        # then it is refused, but without the challenge that would block the page
        assert response.status_code == 401
        assert "www-authenticate" not in response.headers
        assert response.json()["errors"][0]["extensions"] == {"code": 20003}
