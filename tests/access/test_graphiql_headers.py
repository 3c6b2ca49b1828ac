"""GraphiQL (issue 14, point 7) in headless Chromium against a real uvicorn: the opening text
says in one line how to get credentials, the page does not open on "Authentication failed",
and a pasted header survives a reload once the user turned on Settings -> Persist headers
(opt-in: without it, the header is gone after a reload)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import uvicorn
from playwright.async_api import Page, async_playwright

from app.config import Settings
from app.main import create_app
from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, order_input
from tests.graphql.test_graphiql_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.dialects("sqlite"), pytest.mark.browser]
HEADERS_EDITOR = ".graphiql-editor-tool .CodeMirror:visible"


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


async def opened(page: Page, url: str) -> None:
    await page.goto(f"{url}/graphql")
    await page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    await page.get_by_role("button", name="Headers").click()


async def headers_text(page: Page) -> str:
    text: str = await page.locator(HEADERS_EDITOR).inner_text()
    return text


async def paste(page: Page, text: str) -> None:
    await page.click(HEADERS_EDITOR)
    await page.keyboard.insert_text(text)


async def test_a_pasted_header_survives_a_reload_once_persistence_is_on(
    svc: Services, alice: Tenant, server: str
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    header = json.dumps({"Authorization": alice.authorization})
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            await opened(page, server)
            # the opening text says where credentials come from, in one line
            query = await page.locator(".graphiql-query-editor .CodeMirror").inner_text()
            line = next(x for x in query.splitlines() if x.startswith("# Credentials:"))
            assert "scripts/serve" in line and "Headers" in line
            # and the page opens on what to do, not on "Authentication failed"
            await page.get_by_text("No credentials yet").first.wait_for(timeout=15_000)
            assert "Authentication failed" not in await page.locator("body").inner_text()
            # when the user turns on header persistence and pastes the header
            await page.get_by_role("button", name="Open settings dialog").click()
            await page.click("#enable-persist-headers")
            await page.keyboard.press("Escape")
            await paste(page, header)
            # (GraphiQL writes its storage a moment after an edit)
            await page.wait_for_function(
                "() => (localStorage.getItem('portico:headers') || '').includes('Authorization')"
            )
            # and reloads the page
            await page.reload()
            await opened(page, server)
            # then the header is still there, and a query runs with it
            assert alice.authorization in await headers_text(page)
            # (and after a second reload too)
            await page.reload()
            await opened(page, server)
            assert alice.authorization in await headers_text(page)
            await page.click(".graphiql-execute-button")
            result = page.locator(".result-window")
            await result.get_by_text(order.sid).first.wait_for(timeout=15_000)

            # a fresh browser profile where the user did not opt in forgets it on reload
            other = await browser.new_context()
            page2 = await other.new_page()
            await opened(page2, server)
            await paste(page2, header)
            assert alice.authorization in await headers_text(page2)
            await page2.wait_for_timeout(1_000)  # past GraphiQL's storage delay
            await page2.reload()
            await opened(page2, server)
            assert alice.authorization not in await headers_text(page2)
            await other.close()
        finally:
            await browser.close()
