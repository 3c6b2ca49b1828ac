"""Issue 14's browser test, in headless Chromium: a frontend served from another origin on
loopback runs a query (fetch, with its CORS preflight) and a subscription (websocket) with a
Bearer access token; the same page from an origin not on PORTICO_CORS_ALLOWED_ORIGINS is
refused; a cross-site form POST, in a browser holding the account's Basic credentials, is
refused and stores nothing."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from playwright.async_api import Page, async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app.config import Settings
from app.main import create_app
from app.services import port_orders
from app.services.context import Services
from tests.access.support import access_token
from tests.builders import Tenant, order_input
from tests.conftest import snapshot
from tests.graphql.test_graphiql_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.dialects("sqlite"), pytest.mark.browser]

APP_PAGE = """<!doctype html><html><body><p>Porting screen</p><script>
const params = new URLSearchParams(location.search);
const api = params.get("api"), token = params.get("token"), order = params.get("order");
const results = (window.results = { query: null, queryError: null, subscribed: false,
                                     events: [], wsClosed: null });
fetch(api + "/graphql", {
  method: "POST",
  headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
  body: JSON.stringify({ query: "query($sid: ID!) { portOrder(sid: $sid) { sid status } }",
                         variables: { sid: order } }),
}).then((r) => r.json()).then((b) => { results.query = b; })
  .catch((e) => { results.queryError = String(e); });
const ws = new WebSocket(api.replace("http", "ws") + "/graphql", "graphql-transport-ws");
ws.onopen = () => ws.send(JSON.stringify(
  { type: "connection_init", payload: { Authorization: "Bearer " + token } }));
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.type === "connection_ack") {
    ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: {
      query: "subscription($sid: ID!) { portOrderStatusChanged(sid: $sid) { status } }",
      variables: { sid: order } } }));
    results.subscribed = true;
  } else if (msg.type === "next") {
    results.events.push(msg.payload.data.portOrderStatusChanged.status);
  } else if (msg.type === "ping") {
    ws.send(JSON.stringify({ type: "pong" }));
  }
};
ws.onclose = (e) => { results.wsClosed = e.code; };
</script></body></html>"""


def form_page(request: Request) -> HTMLResponse:
    """An attacker's page: a form that posts an order to the API as soon as it loads."""
    api = request.query_params["api"]
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
        for k, v in json.loads(request.query_params["order"]).items()
    )
    return HTMLResponse(
        f'<!doctype html><html><body><form id="f" method="POST" '
        f'action="{html.escape(api)}/porting/PortOrders">{fields}</form>'
        "<script>document.getElementById('f').submit()</script></body></html>"
    )


frontend_app = Starlette(
    routes=[
        Route("/app.html", lambda request: HTMLResponse(APP_PAGE)),
        Route("/form.html", form_page),
    ]
)


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110 -- uvicorn offers no event for this
        await asyncio.sleep(0.02)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await task


@pytest.fixture
async def origins() -> AsyncIterator[tuple[str, str]]:
    """Two frontends on loopback: one whose origin the API allows, one it does not."""
    async with serving(frontend_app) as allowed, serving(frontend_app) as other:
        yield allowed, other


async def wait_for(page: Page, condition: str) -> None:
    await page.wait_for_function(condition, timeout=15_000)


async def test_a_frontend_on_an_allowed_origin_queries_and_subscribes_with_a_bearer_token(
    settings: Settings, svc: Services, alice: Tenant, origins: tuple[str, str]
) -> None:
    allowed, other = origins
    api_app = create_app(settings.model_copy(update={"cors_allowed_origins": [allowed]}), svc)
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with serving(api_app) as api, httpx.AsyncClient(base_url=api) as http:
        # the customer's backend mints a token for the screen, restricted to the order
        token = await access_token(http, alice.authorization, restriction=order.sid)
        query = f"?api={api}&token={token}&order={order.sid}"
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                # the page on the allowed origin
                page = await browser.new_page()
                await page.goto(f"{allowed}/app.html{query}")
                await wait_for(page, "() => window.results.query && window.results.subscribed")
                results = await page.evaluate("() => window.results")
                assert results["query"] == {
                    "data": {"portOrder": {"sid": order.sid, "status": "PENDING"}}
                }
                async with asyncio.timeout(15):
                    while svc.hub.subscriber_count < 1:  # noqa: ASYNC110 (server state)
                        await asyncio.sleep(0.02)
                await port_orders.cancel_port_order(svc, alice.caller, order.sid)
                await wait_for(page, "() => window.results.events.includes('CANCELED')")

                # the same page on an origin the API does not allow
                refused = await browser.new_page()
                await refused.goto(f"{other}/app.html{query}")
                await wait_for(
                    refused, "() => window.results.queryError && window.results.wsClosed"
                )
                results = await refused.evaluate("() => window.results")
                assert results["query"] is None and "Failed to fetch" in results["queryError"]
                assert results["subscribed"] is False and results["events"] == []
            finally:
                await browser.close()


async def test_a_cross_site_form_post_with_cached_basic_credentials_stores_nothing(
    settings: Settings, svc: Services, alice: Tenant, origins: tuple[str, str]
) -> None:
    allowed, evil = origins
    api_app = create_app(settings.model_copy(update={"cors_allowed_origins": [allowed]}), svc)
    before = await snapshot(svc)
    async with serving(api_app) as api, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # a browser that holds alice's Basic credentials for the API
            context = await browser.new_context(
                http_credentials={"username": alice.sid, "password": alice.token}
            )
            page = await context.new_page()
            # (the credentials work: a plain visit lists her orders)
            listed = await page.goto(f"{api}/porting/PortOrders")
            assert listed is not None and listed.status == 200
            # when a page on another site posts a form to the API
            fields = quote(json.dumps({k: str(v) for k, v in order_input().items()}))
            async with page.expect_response(lambda r: "/porting/PortOrders" in r.url) as got:
                await page.goto(f"{evil}/form.html?api={api}&order={fields}")
            response = await got.value
            # then it is refused with 20403
            assert response.status == 403, await response.text()
            assert (await response.json())["code"] == 20403
        finally:
            await browser.close()
    # and nothing was stored
    assert await snapshot(svc) == before
