"""What the end-to-end tests use around the live server: the signer (the signature-request
email's link, the signing page over HTTP) and a status-callback receiver on loopback."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.delivery.receiver import Receiver

DEADLINE = 20.0  # a safety net against a hang, not a timing assertion
LINK = re.compile(r"https?://127\.0\.0\.1:\d+/loa/sign/[A-Za-z0-9_\-.]+")
SHOWN = re.compile(r'name="text_sha256" value="([0-9a-f]{64})"')


def _signing_link(outbox: Path) -> str | None:
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if str(msg["Subject"]).startswith("Please sign"):
            body = msg.get_body(("plain",))
            assert body is not None
            found = LINK.search(str(body.get_content()))
            assert found is not None, "no signing link in the signature request"
            return found.group(0)
    return None


async def sign_from_the_email(outbox: Path, signer_name: str = "James Smith") -> None:
    """Wait for the signature-request email (the live server's delivery worker writes it to
    var/mail/), open its link and sign on the page, as the signer would."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while (link := _signing_link(outbox)) is None:
        assert loop.time() < deadline, "no signature request in the outbox"
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(link)
        assert page.status_code == 200, page.text
        shown = SHOWN.search(page.text)
        assert shown is not None
        form = {"signer_name": signer_name, "agree": "yes", "text_sha256": shown.group(1)}
        signed = await browser.post(link, data=form)
        assert signed.status_code == 200, signed.text


async def callbacks(receiver: Receiver, path: str, count: int) -> list[dict[str, Any]]:
    """The JSON bodies of the first `count` callbacks POSTed to `path` (waits for them)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        got = [r for r in list(receiver.received) if r.url.split("?")[0].endswith(path)]
        if len(got) >= count:
            return [json.loads(r.body) for r in got]
        assert loop.time() < deadline, f"{len(got)} of {count} callbacks arrived"
        await asyncio.sleep(0.05)


def kinds(payloads: list[dict[str, Any]]) -> Counter[tuple[str, tuple[str, ...]]]:
    """(status, callback types) of each callback. Deliveries run concurrently, so callbacks
    may arrive in any order: compared as a multiset."""
    return Counter((p["status"], tuple(p["callback_type"])) for p in payloads)
