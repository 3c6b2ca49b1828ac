"""Each curl example of the source document, as written there, against uvicorn on loopback.

Only the host (preview.twilio.com -> the test server) and the credentials differ; curl gets
`-sS -w` added so the test can read the status code.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from app.porting.statuses import LoaStatus
from app.rest.serializers import LOA_FIELDS, PORT_ORDER_FIELDS
from app.services import reads
from app.services.context import Services
from tests.builders import tenant
from tests.conftest import LiveServer, snapshot

pytestmark = pytest.mark.dialects("sqlite")

DOC_CREATE_BODY = (
    '{"number":"+14153077754","iso_country":"US","region":"CA","city":"SAN FRANCISCO",'
    '"postal_code":94107,"street":"645 Harrison st.","first_name":"James",'
    '"last_name":"The Third","email":"james.thethird@random.com"}'
)


async def curl(*args: str) -> tuple[int, Any]:
    proc = await asyncio.create_subprocess_exec(
        "curl",
        "-sS",
        "-w",
        "\n%{http_code}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text, _, status = out.decode().rpartition("\n")
    return int(status), json.loads(text)


async def test_create_get_filter_and_loa_examples(live_server: LiveServer, svc: Services) -> None:
    base = live_server.url
    acct = await tenant(svc)
    user = f"{acct.sid}:{acct.token}"

    # HTTP POST (create), JSON body as in the document, postal_code as a number.
    status, order = await curl(
        "-XPOST",
        f"{base}/porting/PortOrders",
        "-H",
        "Content-Type: application/json",
        "-d",
        DOC_CREATE_BODY,
        "-u",
        user,
    )
    assert status == 201, order
    assert tuple(order) == PORT_ORDER_FIELDS
    assert order["number"] == "+14153077754"
    assert order["postal_code"] == "94107"
    assert order["status"] == "PENDING"
    assert order["account_sid"] == acct.sid
    assert order["url"] == f"{base}/porting/PortOrders/{order['sid']}"
    for secret in ("account_number", "pin_number", "ssn_last_four"):
        assert secret not in order

    # HTTP GET (instance).
    status, got = await curl("-G", f"{base}/porting/PortOrders/{order['sid']}", "-u", user)
    assert status == 200
    assert got == order

    # HTTP GET (list) with the FriendlyName filter: give one order the document's name.
    status, named = await curl(
        "-XPOST",
        f"{base}/porting/PortOrders",
        "-H",
        "Content-Type: application/json",
        "-d",
        DOC_CREATE_BODY.replace("+14153077754", "+14153077755")[:-1]
        + ',"friendly_name":"Random123"}',
        "-u",
        user,
    )
    assert status == 201, named
    status, page = await curl(
        "-G", f"{base}/porting/PortOrders", "-u", user, "-d", "FriendlyName=Random123"
    )
    assert status == 200
    assert [o["sid"] for o in page["orders"]] == [named["sid"]]
    assert page["meta"] == {
        "page": 0,
        "page_size": 50,
        "first_page_url": f"{base}/porting/PortOrders?FriendlyName=Random123&PageSize=50&Page=0",
        "previous_page_url": None,
        "url": f"{base}/porting/PortOrders?FriendlyName=Random123&PageSize=50&Page=0",
        "next_page_url": None,
        "key": "orders",
    }

    # LOA GET (instance).
    loa_sid = order["loa_sid"]
    status, loa = await curl("-G", f"{base}/porting/Loas/{loa_sid}", "-u", user)
    assert status == 200
    assert tuple(loa) == LOA_FIELDS
    assert loa["status"] == "open"
    assert (loa["first_name"], loa["last_name"]) == ("James", "The Third")

    # LOA POST with an empty body: the signature is requested.
    status, signing = await curl(
        "-XPOST",
        f"{base}/porting/Loas/{loa_sid}",
        "-H",
        "Content-Type: application/json",
        "-u",
        user,
        "-d",
        "",
    )
    assert status == 200, signing
    assert signing["status"] == "signing"
    stored = await reads.get_loa(svc, acct.caller, loa_sid)
    assert stored is not None and stored.status == LoaStatus.SIGNING

    # LOA list.
    status, loas = await curl("-G", f"{base}/porting/Loas", "-u", user)
    assert status == 200
    assert loas["meta"]["key"] == "loas"
    assert loas["meta"]["url"] == f"{base}/porting/Loas?PageSize=50&Page=0"
    # One LOA covers both orders (same signer, address and port type).
    assert named["loa_sid"] == loa_sid
    assert [x["sid"] for x in loas["loas"]] == [loa_sid]
    assert loas["loas"][0]["status"] == "signing"


async def test_form_encoded_create_with_twilio_names(
    live_server: LiveServer, svc: Services
) -> None:
    """curl's -d without a content type sends a form; PascalCase names, repeated CcEmails."""
    acct = await tenant(svc)
    status, order = await curl(
        "-XPOST",
        f"{live_server.url}/porting/PortOrders",
        "-u",
        f"{acct.sid}:{acct.token}",
        "--data-urlencode",
        "Number=+14153077756",
        "-d",
        "IsoCountry=US",
        "-d",
        "Region=CA",
        "-d",
        "City=San Francisco",
        "-d",
        "PostalCode=94107",
        "-d",
        "Street=645 Harrison St",
        "-d",
        "FirstName=Jim",
        "-d",
        "LastName=Smith",
        "-d",
        "Email=jim.smith@example.com",
        "-d",
        "CcEmails=a@example.com",
        "-d",
        "CcEmails=b@example.com",
        "--data-urlencode",
        "StatusCallback=https://example.com/cb?x=1",
    )
    assert status == 201, order
    assert order["cc_emails"] == ["a@example.com", "b@example.com"]
    assert order["status_callback"] == "https://example.com/cb?x=1"
    assert order["city"] == "San Francisco"


async def test_bad_credentials_over_the_wire(live_server: LiveServer, svc: Services) -> None:
    before = await snapshot(svc)
    status, body = await curl(
        "-XPOST",
        f"{live_server.url}/porting/PortOrders",
        "-H",
        "Content-Type: application/json",
        "-d",
        DOC_CREATE_BODY,
        "-u",
        "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:your_auth_token",
    )
    assert status == 401
    assert body["code"] == 20003
    assert await snapshot(svc) == before


async def test_oversized_body_over_the_wire(
    live_server: LiveServer, svc: Services, tmp_path: Path
) -> None:
    acct = await tenant(svc)
    big = tmp_path / "big.json"
    big.write_text('{"street": "' + "x" * (2 << 20) + '"}')
    before = await snapshot(svc)
    status, body = await curl(
        "-XPOST",
        f"{live_server.url}/porting/PortOrders",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        f"@{big}",
        "-u",
        f"{acct.sid}:{acct.token}",
    )
    assert (status, body["code"]) == (413, 20413)
    assert await snapshot(svc) == before
