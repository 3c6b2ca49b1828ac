"""The LOA as a PDF (issue 13 point 3): `GET /porting/Loas/{sid}/Pdf` before and after signing,
read back with poppler's `pdftotext`: the letter's text, signer, business name, service
address, every number with its current carrier, and once signed the signature block (signer,
time, IP, the sha256 of the signed text); at signing the signed PDF is stored as a `loa`
document of each order the LOA covers."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import httpx

from app.porting.isotime import format_utc
from app.services import letters, loa_signing, loas, port_orders, reads
from app.services.context import Services
from tests.builders import Tenant, order_input
from tests.rest.conftest import assert_error

PDFTOTEXT = shutil.which("pdftotext") or "pdftotext"  # poppler-utils (scripts/test installs it)


def text_of(pdf: bytes) -> str:
    """The PDF's text as poppler reads it (whitespace runs collapsed)."""
    done = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode("utf-8").split())


async def test_the_pdf_before_and_after_signing(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    raw = order_input(company_name="Acme Widgets", first_name="Zoë", last_name="Ångström")
    one = await port_orders.create_port_order(svc, alice.caller, raw)
    two = await port_orders.create_port_order(
        svc, alice.caller, {**raw, "number": order_input()["number"]}
    )
    assert one.loa_sid == two.loa_sid  # one owner, one address: one letter
    path = f"/porting/Loas/{one.loa_sid}/Pdf"

    r = await http.get(path, auth=alice.auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    before = text_of(r.content)
    for expected in (
        "Letter of Authorization",
        one.loa_sid,
        "Zoë Ångström",
        "Acme Widgets",
        "645 Harrison St, San Francisco, CA 94107, United States",
        "I authorise Portico",
        "Not signed yet",
    ):
        assert expected in before, expected
    for order in (one, two):
        shown = f"{letters.display_number(order.number)} (current carrier: {order.current_carrier})"
        assert shown in before
    assert "Signed by" not in before
    assert_error(await http.get(path, auth=bob.auth), 404, 20404)

    # The signer signs on the page (the text shown is hashed and recorded).
    await loas.request_signature(svc, alice.caller, one.loa_sid)
    token = loa_signing.signing_link(svc, one.loa_sid).rsplit("/", 1)[1]
    letter = await loa_signing.open_letter(svc, token)
    await loa_signing.sign_letter(
        svc,
        token,
        signer_name="Zoë Ångström",
        agreed=True,
        shown_sha256=letter.text_sha256,
        ip="203.0.113.7",
        user_agent="pytest",
    )
    loa = await reads.get_loa(svc, alice.caller, one.loa_sid)
    assert loa is not None and loa.signed_date is not None

    r = await http.get(path, auth=alice.auth)
    assert r.status_code == 200
    after = text_of(r.content)
    assert letter.text_sha256 == hashlib.sha256(letter.text.encode()).hexdigest()
    for expected in (
        "Signature",
        "Signed by Zoë Ångström",
        f"Signed at {format_utc(loa.signed_date)}",
        "From IP address 203.0.113.7",
        f"SHA-256 of the signed text {letter.text_sha256}",
        "Acme Widgets",
    ):
        assert expected in after, expected
    assert "Not signed yet" not in after

    # Stored at signing as a `loa` document of each order, the same bytes the route serves.
    for order in (one, two):
        listed = await http.get(f"/porting/PortOrders/{order.sid}/Documents", auth=alice.auth)
        (doc,) = listed.json()["documents"]
        assert (doc["document_type"], doc["content_type"]) == ("loa", "application/pdf")
        assert doc["file_name"] == f"LOA-{one.loa_sid}-signed.pdf"
        assert doc["sha256"] == hashlib.sha256(r.content).hexdigest()
        got = await http.get(doc["url"].removeprefix("http://testserver"), auth=alice.auth)
        assert got.content == r.content


async def test_a_malformed_or_unknown_sid_is_not_found(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    assert_error(await http.get("/porting/Loas/nope/Pdf", auth=alice.auth), 404, 20404)
    assert_error(await http.get(f"/porting/Loas/PX{'0' * 32}/Pdf", auth=alice.auth), 404, 20404)


async def test_a_name_in_another_script_prints_as_typed(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    raw = order_input(first_name="Вера", last_name="Иванова", company_name="Πόρτικο Α.Ε.")
    order = await port_orders.create_port_order(svc, alice.caller, raw)
    r = await http.get(f"/porting/Loas/{order.loa_sid}/Pdf", auth=alice.auth)
    assert r.status_code == 200
    text = text_of(r.content)
    assert "Вера Иванова" in text and "Πόρτικο Α.Ε." in text
