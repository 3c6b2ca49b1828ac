"""The workflow's routes and fields under the credential rules (ARCHITECTURE.md §6), REST and
GraphQL alike: a read-only API key only reads them (20403, nothing stored); an access token
restricted to one order reaches that order's thread, documents, windows and LOA PDF and
nothing of another order (20404), `addComment` and `commentAdded` included."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import parse

from app.graphql.grants import refusal
from app.graphql.schema import build_schema
from app.services import port_orders
from app.services.context import Services
from tests.access.support import access_token, api_key, bearer, graphql, key_auth
from tests.builders import Tenant, order_input
from tests.conftest import snapshot
from tests.flow.test_documents import PDF
from tests.rest.conftest import ORDERS

ADD = """
mutation ($s: ID!, $b: String!) {
  addComment(subjectSid: $s, body: $b) { comment { body } userErrors { code } }
}
"""


def files() -> dict[str, Any]:
    return {"file": ("bill.pdf", PDF, "application/pdf")}


async def test_a_read_only_key_reads_the_workflow_and_writes_nothing(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    sid, secret = await api_key(svc, alice, read_only=True)
    auth = key_auth(sid, secret)
    path = f"{ORDERS}/{order.sid}"
    for read in ("Comments", "Documents", "ActivationWindows"):
        assert (await http.get(f"{path}/{read}", headers=auth)).status_code == 200, read
    assert (await http.get(f"/porting/Loas/{order.loa_sid}/Pdf", headers=auth)).status_code == 200
    before = await snapshot(svc)
    for r in (
        await http.post(f"{path}/Comments", json={"body": "hi"}, headers=auth),
        await http.post(
            f"{path}/Documents", data={"document_type": "other"}, files=files(), headers=auth
        ),
    ):
        assert r.status_code == 403 and r.json()["code"] == 20403, r.text
    got = await graphql(http, auth, ADD, s=order.sid, b="hi")
    assert got["errors"][0]["extensions"]["code"] == 20403
    assert await snapshot(svc) == before


async def test_a_token_restricted_to_one_order_reaches_its_workflow_only(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    other = await port_orders.create_port_order(
        svc, alice.caller, order_input(first_name="Ada", last_name="Byron")
    )
    assert mine.loa_sid != other.loa_sid
    auth = bearer(await access_token(http, alice.authorization, restriction=mine.sid))

    # its own order: the thread (REST and GraphQL), a document, the windows, the LOA PDF
    r = await http.post(f"{ORDERS}/{mine.sid}/Comments", json={"body": "REST"}, headers=auth)
    assert r.status_code == 201, r.text
    added = await graphql(http, auth, ADD, s=mine.sid, b="GraphQL")
    assert "errors" not in added, added
    assert added["data"]["addComment"] == {"comment": {"body": "GraphQL"}, "userErrors": []}
    thread = await http.get(f"{ORDERS}/{mine.sid}/Comments", headers=auth)
    assert [c["body"] for c in thread.json()["comments"]] == ["REST", "GraphQL"]
    r = await http.post(
        f"{ORDERS}/{mine.sid}/Documents",
        data={"document_type": "other"},
        files=files(),
        headers=auth,
    )
    assert r.status_code == 201, r.text
    content = f"{ORDERS}/{mine.sid}/Documents/{r.json()['sid']}/Content"
    assert (await http.get(content, headers=auth)).content == PDF
    windows = await http.get(f"{ORDERS}/{mine.sid}/ActivationWindows", headers=auth)
    assert windows.status_code == 200
    pdf = await http.get(f"/porting/Loas/{mine.loa_sid}/Pdf", headers=auth)
    assert pdf.status_code == 200

    # another order of the same account: as if it did not exist, and nothing stored
    before = await snapshot(svc)
    for r in (
        await http.post(f"{ORDERS}/{other.sid}/Comments", json={"body": "x"}, headers=auth),
        await http.get(f"{ORDERS}/{other.sid}/Comments", headers=auth),
        await http.post(
            f"{ORDERS}/{other.sid}/Documents",
            data={"document_type": "other"},
            files=files(),
            headers=auth,
        ),
        await http.get(f"{ORDERS}/{other.sid}/Documents", headers=auth),
        await http.get(f"{ORDERS}/{other.sid}/ActivationWindows", headers=auth),
        await http.get(f"/porting/Loas/{other.loa_sid}/Pdf", headers=auth),
    ):
        assert r.status_code == 404 and r.json()["code"] == 20404, r.text
    refused = await graphql(http, auth, ADD, s=other.sid, b="x")
    assert refused["errors"][0]["extensions"]["code"] == 20404 and refused["data"] is None
    assert await snapshot(svc) == before


async def test_comment_added_for_a_restricted_token_names_its_subject(
    svc: Services, alice: Tenant
) -> None:
    """The subscription's grant (checked before it starts): its own order's thread, not
    another order's, and not every thread of the account."""
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    other = await port_orders.create_port_order(
        svc, alice.caller, order_input(first_name="Ada", last_name="Byron")
    )
    caller = alice.caller.__class__(
        alice.caller.sid, alice.caller.kind, alice.caller.visible, restriction=mine.sid
    )
    schema = build_schema(svc.settings)._schema
    doc = parse("subscription ($s: ID) { commentAdded(subjectSid: $s) { cursor } }")

    async def code(subject: str | None) -> int | None:
        got = await refusal(svc, caller, schema, doc, False, {"s": subject})
        return None if got is None else int(got.extensions["code"])  # type: ignore[index]

    assert await code(mine.sid) is None
    assert await code(other.sid) == 20404
    assert await code(None) == 20403
