"""GraphiQL in headless Chromium, served by a real uvicorn on loopback: the page loads its
assets from this server, the Authorization header goes into its Headers editor, a query runs,
and the result shows."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator

import pytest
import uvicorn
from playwright.async_api import async_playwright

from app.config import Settings
from app.main import create_app
from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, order_input

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def server(settings: Settings, svc: Services) -> AsyncIterator[str]:
    config = uvicorn.Config(
        create_app(settings, svc), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
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


@pytest.mark.browser
async def test_graphiql_runs_a_query_with_credentials_from_its_headers_editor(
    svc: Services, alice: Tenant, server: str
) -> None:
    # given an order of Alice's and GraphiQL open in a browser
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            await page.goto(f"{server}/graphql")
            await page.wait_for_selector(".graphiql-query-editor .CodeMirror")
            assert not failed, failed  # every asset came from this server
            # when Alice pastes her Authorization header into the Headers editor
            await page.get_by_role("button", name="Headers").click()
            await page.click(".graphiql-editor-tool .CodeMirror:visible")
            headers = json.dumps({"Authorization": alice.authorization})
            await page.keyboard.insert_text(headers)
            # and runs the default query
            await page.click(".graphiql-execute-button")
            # then the result pane shows her order
            result = page.locator(".result-window")
            await result.get_by_text(order.sid).first.wait_for(timeout=15_000)
            text = await result.inner_text()
            assert '"totalCount": 1' in text and order.number in text
        finally:
            await browser.close()
