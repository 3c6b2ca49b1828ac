"""Logs without personal data at any level (issue 14, point 6): `portico serve` at
PORTICO_LOG_LEVEL=DEBUG runs an order's whole life (REST create with an API key, GraphQL reads
with an access token, a subscription over a websocket, the signature request email, signing on
the page, the sandbox carrier to COMPLETED, status callbacks to a receiver, a refused create)
and its log holds no name, email, address, write-only value or credential: no SQL parameter,
no result row, no body, no websocket frame."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from app.services import api_keys
from app.services.context import Services
from tests.access.support import TOKENS, bearer, key_auth
from tests.builders import Tenant, mobile_input
from tests.conftest import SECRET
from tests.delivery.receiver import Receiver
from tests.operators.live import SHOWN, _signing_link, callbacks
from tests.subscriptions.support import TRANSPORT_WS, Replica, replica_env

pytestmark = pytest.mark.dialects("sqlite", "postgres")

FIRST, LAST = "Zebulonia", "Quixworthy"
PERSONAL = {
    "first_name": FIRST,
    "last_name": LAST,
    "email": "zebulonia.quixworthy@example.com",
    "status_updates_email": "vexillum.updates@example.org",
    "street": "4417 Quillbramble Lane",
    "company_name": "Vexillum Holdings",
    "account_number": "ACCT-SENTINEL-99417",
    "pin_number": "PINSENT77",
    "ssn_last_four": "4829",
}
CC = "quillon.copy@example.net"  # a copied address (cc_emails)
# The service address's city too: mobile_input's own ("San Francisco"; its ZIP is left out:
# five digits may be a process id in the log)
CITY = "San Francisco"
ORDER = "query($sid: ID!) { portOrder(sid: $sid) { sid status firstName email street } }"
# `after: "0"`: the order's changes from the start, so none is missed however late the
# subscription starts
EVENTS = """
subscription($sid: ID!) {
  portOrderStatusChanged(sid: $sid, after: "0") { status portOrder { email } }
}
"""


async def sign(outbox: Path, base: str) -> None:
    """Open the signature request's link (on this server: PORTICO_PUBLIC_URL is the default
    one) and sign on the page, as the signer would."""
    async with asyncio.timeout(20):
        while (link := _signing_link(outbox)) is None:  # noqa: ASYNC110 (a file, polled)
            await asyncio.sleep(0.05)
    link = base + link[link.index("/loa/") :]
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(link)
        shown = SHOWN.search(page.text)
        assert shown is not None, page.text
        form = {"signer_name": f"{FIRST} {LAST}", "agree": "yes", "text_sha256": shown.group(1)}
        assert (await browser.post(link, data=form)).status_code == 200


@pytest.fixture
def server(database_url: str, tmp_path: Path, receiver: Receiver) -> Iterator[Replica]:
    env = replica_env(database_url, tmp_path / "var", SECRET)
    env.update(
        PORTICO_SANDBOX_STEP_SECONDS="0.2",
        PORTICO_CALLBACK_ALLOWED_NETWORKS="127.0.0.0/8",
        PORTICO_DELIVERY_POLL_SECONDS="0.05",
    )
    replica = Replica(env, tmp_path / "serve.log", log_level="DEBUG")
    try:
        yield replica
    finally:
        replica.stop()


async def test_a_whole_order_life_at_debug_logs_no_personal_data(
    server: Replica, svc: Services, alice: Tenant, receiver: Receiver, tmp_path: Path
) -> None:
    await server.ready()
    key = await api_keys.create_api_key(svc, None, alice.sid)
    secrets = {
        "auth_token": alice.token,
        "key_secret": key.secret,
    }
    base = server.live.http_url
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        # an access token for the browser, minted with the API key
        minted = await http.post(TOKENS, headers=key_auth(key.key.sid, key.secret))
        token = minted.json()["token"]
        secrets["access_token"] = token
        # a refused create carrying the personal data (bad activation date)
        bad = await http.post(
            "/porting/PortOrders",
            json={**mobile_input(**PERSONAL), "activation_date": "tomorrow"},
            headers=key_auth(key.key.sid, key.secret),
        )
        assert bad.status_code == 400
        # the create, with a status callback
        made = await http.post(
            "/porting/PortOrders",
            json=mobile_input(
                number="+14159872001",
                status_callback=receiver.url("/callbacks/2001"),
                cc_emails=[CC],
                city=CITY,
                **PERSONAL,
            ),
            headers=key_auth(key.key.sid, key.secret),
        )
        assert made.status_code == 201, made.text
        order = made.json()
        # a subscription to it over a websocket, with the access token
        async with connect(
            server.live.ws_url, subprotocols=[Subprotocol(TRANSPORT_WS)], open_timeout=10
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": bearer(token)}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": EVENTS, "variables": {"sid": order["sid"]}},
                    }
                )
            )
            # the signature request and the signature
            signing = await http.post(f"/porting/Loas/{order['loa_sid']}", headers=bearer(token))
            assert signing.status_code == 200, signing.text
            await sign(tmp_path / "var" / "mail", base)
            # the carrier takes it to COMPLETED (polled), and the socket hears the changes
            async with asyncio.timeout(60):
                while True:
                    got = await http.get(
                        f"/porting/PortOrders/{order['sid']}", headers=bearer(token)
                    )
                    if got.json()["status"] == "COMPLETED":
                        break
                    await asyncio.sleep(0.1)
            async with asyncio.timeout(20):
                while True:
                    message = json.loads(await ws.recv())
                    assert message.get("type") not in ("error", "complete"), message
                    if message.get("type") == "next":
                        break
        # reads over GraphQL, with the token
        read = await http.post(
            "/graphql",
            json={"query": ORDER, "variables": {"sid": order["sid"]}},
            headers=bearer(token),
        )
        assert read.json()["data"]["portOrder"]["status"] == "COMPLETED"
        assert read.json()["data"]["portOrder"]["firstName"] == FIRST
        await callbacks(receiver, "/callbacks/2001", 5)
    server.stop()
    log = server.log_path.read_text()
    assert "\nDEBUG app." in log  # the level was in force: Portico's own debug lines
    assert len(log.splitlines()) > 20
    for name, value in {**PERSONAL, "cc_emails": CC, "city": CITY, **secrets}.items():
        # As a value of its own, not inside a longer token: four digits such as the SSN's
        # turn up in random hex SIDs and request ids (about one run in six).
        alone = rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])"
        assert not re.search(alone, log, re.IGNORECASE), f"{name} appears in the DEBUG log"
