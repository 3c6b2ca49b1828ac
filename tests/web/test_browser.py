"""Headless Chromium: follow the link from the signature-request email, sign, and the order
is SUBMITTED. The page is used as a person would: on a phone-sized screen, without JavaScript."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright

from app.config import Settings
from app.main import create_app
from app.porting.statuses import PortOrderStatus
from app.services import loas, port_orders, reads
from app.wiring import build_services
from tests.builders import account, order_input

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LINK = re.compile(r"http://127\.0\.0\.1:\d+/loa/sign/[A-Za-z0-9_\-.]+")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _link_in(outbox: Path) -> str | None:
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "Please sign" in str(msg["Subject"]):
            body = msg.get_body(("plain",))
            assert body is not None
            found = LINK.search(str(body.get_content()))
            assert found is not None
            return found.group(0)
    return None


async def _signature_mail(outbox: Path) -> str:
    for _ in range(400):
        link = _link_in(outbox)
        if link is not None:
            return link
        await asyncio.sleep(0.05)
    raise AssertionError("no signature request in the outbox")


@pytest.mark.browser
async def test_chromium_signs_from_the_email_link(settings: Settings) -> None:
    port = _free_port()
    live = Settings.model_validate(
        {
            **settings.model_dump(),
            "public_url": f"http://127.0.0.1:{port}",
            "delivery_poll_seconds": 0.05,
        }
    )
    setup = build_services(live)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(live, build_services(live)),
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_level="warning",
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "server did not start"
            await asyncio.sleep(0.05)
        caller = await account(setup)
        raw = order_input(company_name="Acme Telecom")
        order = await port_orders.create_port_order(setup, caller, raw)
        await loas.request_signature(setup, caller, order.loa_sid)
        link = await _signature_mail(live.mail_dir)  # sent by the server's own worker

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = await browser.new_context(
                java_script_enabled=False,
                viewport={"width": 360, "height": 740},
                is_mobile=True,
                user_agent="Mozilla/5.0 (Linux; Android 14) Mobile PorticoTest",
            )
            page = await context.new_page()
            await page.goto(link)
            assert await page.title() == "Letter of Authorization · Portico"
            text = await page.inner_text("main")
            assert "Acme Telecom" in text and "645 Harrison St" in text
            box = await page.locator("main").bounding_box()
            assert box is not None and box["width"] <= 360  # fits the phone's width
            await page.fill("#signer_name", "James Smith")
            await page.check("input[name=agree]")
            await page.click("button[type=submit]")
            await page.wait_for_selector("text=the letter is signed")
            await browser.close()

        submitted = await reads.get_port_order(setup, caller, order.sid)
        assert submitted is not None and submitted.status == PortOrderStatus.SUBMITTED
        loa = await reads.get_loa(setup, caller, order.loa_sid)
        assert loa is not None and loa.signer_name == "James Smith"
        assert loa.signer_user_agent == "Mozilla/5.0 (Linux; Android 14) Mobile PorticoTest"
        assert loa.signer_ip == "127.0.0.1"
    finally:
        server.should_exit = True
        await serving
        await setup.close()
