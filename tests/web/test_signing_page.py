"""The LOA signing page over HTTP (ASGI): what it shows, what signing records, bad links."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.porting.statuses import LoaStatus, PortOrderStatus
from app.services import letters, loa_signing, loas, port_orders, reads
from app.services.context import Caller, Services
from app.wiring import build_services
from tests.builders import account, order_input

SHA = re.compile(r'name="text_sha256" value="([0-9a-f]{64})"')


@pytest.fixture
async def client(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(svc.settings, svc)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def signing(svc: Services, **overrides: Any) -> tuple[Caller, list[str], str, str]:
    """Two orders on one LOA, signature requested; (caller, order sids, LOA sid, link path)."""
    caller = await account(svc)
    raw = {"company_name": "Acme Telecom", **overrides}
    first = await port_orders.create_port_order(svc, caller, order_input(**raw))
    second = await port_orders.create_port_order(svc, caller, order_input(**raw))
    assert first.loa_sid == second.loa_sid
    await loas.request_signature(svc, caller, first.loa_sid)
    link = loa_signing.signing_link(svc, first.loa_sid)
    return caller, [first.sid, second.sid], first.loa_sid, link.removeprefix("http://testserver")


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


async def test_page_shows_the_whole_letter(svc: Services, client: httpx.AsyncClient) -> None:
    caller, orders, loa_sid, path = await signing(svc)
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    body = page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert "<script" not in body
    text = visible_text(body)
    assert "James Smith" in text and "james.smith@example.com" in text
    assert "Acme Telecom" in text
    assert "645 Harrison St" in text and "San Francisco, CA 94107" in text
    assert "United States" in text
    for sid in orders:
        order = await reads.get_port_order(svc, caller, sid)
        assert order is not None
        assert letters.display_number(order.number) in text
    assert "I authorise Portico" in text
    assert 'name="signer_name"' in body and 'type="checkbox" name="agree"' in body
    css = await client.get("/loa/static/sign.css")
    assert css.status_code == 200 and "max-width" in css.text


@pytest.mark.dialects("sqlite", "postgres")
async def test_signing_records_everything_and_submits_the_orders(
    svc: Services, client: httpx.AsyncClient
) -> None:
    caller, orders, loa_sid, path = await signing(svc)
    page = await client.get(path)
    shown = SHA.search(page.text)
    assert shown is not None
    letter = await loa_signing.open_letter(svc, path.rsplit("/", 1)[1])
    assert shown.group(1) == hashlib.sha256(letter.text.encode()).hexdigest()
    for paragraph in letter.paragraphs:
        assert paragraph in visible_text(page.text)

    done = await client.post(
        path,
        data={"signer_name": "  james   smith ", "agree": "yes", "text_sha256": shown.group(1)},
        headers={"user-agent": "Mozilla/5.0 (iPhone) test"},
    )
    assert done.status_code == 200
    assert "the letter is signed" in done.text
    loa = await reads.get_loa(svc, caller, loa_sid)
    assert loa is not None and loa.status == LoaStatus.SIGNED
    assert loa.signer_name == "james smith"
    assert loa.signer_ip == "203.0.113.9"
    assert loa.signer_user_agent == "Mozilla/5.0 (iPhone) test"
    assert loa.signed_text_sha256 == shown.group(1)
    assert loa.signed_date is not None
    for sid in orders:
        order = await reads.get_port_order(svc, caller, sid)
        assert order is not None and order.status == PortOrderStatus.SUBMITTED

    again = await client.get(path)
    assert again.status_code == 409 and "already signed" in again.text
    replay = await client.post(
        path, data={"signer_name": "James Smith", "agree": "yes", "text_sha256": shown.group(1)}
    )
    assert replay.status_code == 409
    unchanged = await reads.get_loa(svc, caller, loa_sid)
    assert unchanged is not None and unchanged.signed_date == loa.signed_date


async def assert_unsigned(svc: Services, caller: Caller, loa_sid: str, orders: list[str]) -> None:
    loa = await reads.get_loa(svc, caller, loa_sid)
    assert loa is not None and loa.status == LoaStatus.SIGNING and loa.signer_name is None
    for sid in orders:
        order = await reads.get_port_order(svc, caller, sid)
        assert order is not None and order.status == PortOrderStatus.PENDING


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"signer_name": "James Smith"}, "Tick the box"),
        ({"agree": "yes"}, "Type your full name"),
        ({"signer_name": "Someone Else", "agree": "yes"}, "as it appears on the letter"),
        ({"signer_name": "James Smith", "agree": "yes", "text_sha256": "0" * 64}, "changed"),
    ],
)
async def test_incomplete_form_is_shown_again_and_changes_nothing(
    svc: Services, client: httpx.AsyncClient, form: dict[str, str], message: str
) -> None:
    caller, orders, loa_sid, path = await signing(svc)
    shown = SHA.search((await client.get(path)).text)
    assert shown is not None
    answer = await client.post(path, data={"text_sha256": shown.group(1), **form})
    assert answer.status_code == 422
    assert message in answer.text
    assert SHA.search(answer.text) is not None  # the form is back
    await assert_unsigned(svc, caller, loa_sid, orders)


async def test_letter_changed_after_showing_must_be_read_again(
    svc: Services, client: httpx.AsyncClient
) -> None:
    caller, orders, loa_sid, path = await signing(svc)
    shown = SHA.search((await client.get(path)).text)
    assert shown is not None
    await port_orders.cancel_port_order(svc, caller, orders[1])  # one number leaves the letter
    answer = await client.post(
        path, data={"signer_name": "James Smith", "agree": "yes", "text_sha256": shown.group(1)}
    )
    assert answer.status_code == 422 and "read it again" in answer.text
    fresh = SHA.search(answer.text)
    assert fresh is not None and fresh.group(1) != shown.group(1)
    await assert_unsigned(svc, caller, loa_sid, orders[:1])


async def test_expired_link_changes_nothing(svc: Services, client: httpx.AsyncClient) -> None:
    caller, orders, loa_sid, path = await signing(svc)
    shown = SHA.search((await client.get(path)).text)
    assert shown is not None
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + timedelta(days=7, seconds=5)
    page = await client.get(path)
    assert page.status_code == 410 and "expired" in page.text
    post = await client.post(
        path, data={"signer_name": "James Smith", "agree": "yes", "text_sha256": shown.group(1)}
    )
    assert post.status_code == 410 and "Nothing was changed" in post.text
    svc.clock = real_clock
    await assert_unsigned(svc, caller, loa_sid, orders)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature altered
        lambda t: "x" + t,
        lambda t: t.split(".")[0],
        lambda t: "not-a-token",
    ],
)
async def test_tampered_link_changes_nothing(
    svc: Services, client: httpx.AsyncClient, mangle: Callable[[str], str]
) -> None:
    caller, orders, loa_sid, path = await signing(svc)
    token = path.rsplit("/", 1)[1]
    bad = f"/loa/sign/{mangle(token)}"
    page = await client.get(bad)
    assert page.status_code == 404 and "not valid" in page.text
    post = await client.post(bad, data={"signer_name": "James Smith", "agree": "yes"})
    assert post.status_code == 404
    await assert_unsigned(svc, caller, loa_sid, orders)


async def test_link_of_another_secret_key_is_not_valid(
    svc: Services, client: httpx.AsyncClient
) -> None:
    from app.config import Settings

    caller, orders, loa_sid, path = await signing(svc)
    other = build_services(
        Settings(
            database_url=svc.settings.database_url,
            secret_key="another-secret-key-0123456789abcdef",
            var_dir=svc.settings.var_dir,
        )
    )
    try:
        forged = loa_signing.signing_link(other, loa_sid).rsplit("/", 1)[1]
    finally:
        await other.close()
    page = await client.get(f"/loa/sign/{forged}")
    assert page.status_code == 404
    await assert_unsigned(svc, caller, loa_sid, orders)


async def test_canceled_letter_cannot_be_signed(svc: Services, client: httpx.AsyncClient) -> None:
    caller, orders, loa_sid, path = await signing(svc)
    for sid in orders:
        await port_orders.cancel_port_order(svc, caller, sid)
    page = await client.get(path)
    assert page.status_code == 409 and "can no longer be signed" in page.text
