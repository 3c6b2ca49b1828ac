"""Comments (issue 13 point 1): REST under PortOrders and PortRequests, GraphQL `addComment`
and `comments`, the tenant rules, nothing stored on a refused comment, the deliveries a comment
implies (a `comment_added` callback, mail to the other side, its body escaped in HTML) and the
`commentAdded` subscription."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from app.porting.comments import MAX_BODY
from app.services import mails, port_orders
from app.services.context import Services
from app.store import queries
from app.store.tables import Delivery
from tests.builders import Tenant, order_input, request_input, tenant
from tests.conftest import GraphQL, snapshot
from tests.rest.conftest import ORDERS, assert_error
from tests.subscriptions.support import Live, gql_client, subscribe_gql, take

COMMENT_KEYS = (
    "sid",
    "account_sid",
    "subject_sid",
    "author_type",
    "author_sid",
    "body",
    "date_created",
)
ADD = """
mutation ($s: ID!, $b: String!) {
  addComment(subjectSid: $s, body: $b) {
    comment { sid subjectSid authorType authorSid body dateCreated }
    userErrors { code field message }
  }
}
"""
THREAD = """
query ($sid: ID!, $after: String) {
  portOrder(sid: $sid) {
    comments(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { sid authorType body } }
    }
  }
}
"""


async def new_order(http: httpx.AsyncClient, who: Tenant, **more: Any) -> dict[str, Any]:
    r = await http.post(ORDERS, json=order_input(**more), auth=who.auth)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def comment(
    http: httpx.AsyncClient, who: Tenant, path: str, text: str, *, form: bool = False
) -> httpx.Response:
    if form:
        return await http.post(f"{path}/Comments", data={"Body": text}, auth=who.auth)
    return await http.post(f"{path}/Comments", json={"body": text}, auth=who.auth)


async def deliveries_of(svc: Services, event_kind: str | None = None) -> list[Delivery]:
    async with svc.db.read() as s:
        stmt = select(Delivery).order_by(col(Delivery.id))
        rows = list((await s.execute(stmt)).scalars())
    return [d for d in rows if event_kind is None or d.kind == event_kind]


async def test_a_thread_on_an_order_oldest_first_with_keyset_pages(
    http: httpx.AsyncClient, alice: Tenant, op: Tenant
) -> None:
    order = await new_order(http, alice)
    path = f"{ORDERS}/{order['sid']}"
    first = await comment(http, alice, path, "Our bill is attached.")
    assert first.status_code == 201, first.text
    body = first.json()
    assert tuple(body) == COMMENT_KEYS
    assert re.fullmatch(r"CM[0-9a-f]{32}", body["sid"])
    assert (body["author_type"], body["author_sid"], body["subject_sid"]) == (
        "customer",
        alice.sid,
        order["sid"],
    )
    second = await comment(http, op, path, "Thanks, we have it.", form=True)
    assert second.status_code == 201 and second.json()["author_type"] == "operator"
    assert second.json()["author_sid"] == op.sid
    third = await comment(http, alice, path, "Great.")
    assert third.status_code == 201

    page = (await http.get(f"{path}/Comments?PageSize=2", auth=alice.auth)).json()
    assert page["meta"]["key"] == "comments"
    assert [c["body"] for c in page["comments"]] == ["Our bill is attached.", "Thanks, we have it."]
    nxt = page["meta"]["next_page_url"]
    assert nxt is not None and "AfterSid=" in nxt
    rest = (await http.get(nxt.replace("http://testserver", ""), auth=alice.auth)).json()
    assert [c["body"] for c in rest["comments"]] == ["Great."]
    assert rest["meta"]["next_page_url"] is None


async def test_graphql_port_request_comments(
    gql: GraphQL, http: httpx.AsyncClient, alice: Tenant, bob: Tenant
) -> None:
    created = await http.post("/porting/PortRequests", json=request_input(), auth=alice.auth)
    sid = created.json()["sid"]
    added = await gql(ADD, {"s": sid, "b": "All three numbers, please."}, as_=alice)
    assert added["addComment"]["comment"]["subjectSid"] == sid
    query = "query ($s: ID!) { portRequest(sid: $s) { comments { edges { node { body } } } } }"
    got = (await gql(query, {"s": sid}, as_=alice))["portRequest"]["comments"]["edges"]
    assert [e["node"]["body"] for e in got] == ["All three numbers, please."]
    assert (await gql(query, {"s": sid}, as_=bob))["portRequest"] is None


async def test_port_requests_have_threads_too(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, op: Tenant
) -> None:
    created = await http.post("/porting/PortRequests", json=request_input(), auth=alice.auth)
    assert created.status_code == 201, created.text
    path = f"/porting/PortRequests/{created.json()['sid']}"
    r = await comment(http, op, path, "We need a bill for these numbers.")
    assert r.status_code == 201, r.text
    assert r.json()["subject_sid"] == created.json()["sid"]
    listed = (await http.get(f"{path}/Comments", auth=alice.auth)).json()
    assert [c["author_type"] for c in listed["comments"]] == ["operator"]
    bob = await tenant(svc)
    assert_error(await http.get(f"{path}/Comments", auth=bob.auth), 404, 20404)
    assert_error(await comment(http, bob, path, "hi"), 404, 20404)
    # an operator's comment is mailed to the customer (the request's signer)
    (mail,) = await deliveries_of(svc, "comment")
    assert mail.target == "james.smith@example.com"


async def test_another_accounts_order_is_not_found_and_nothing_is_stored(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    order = await new_order(http, alice)
    path = f"{ORDERS}/{order['sid']}"
    before = await snapshot(svc)
    assert_error(await comment(http, bob, path, "hello"), 404, 20404)
    assert_error(await http.get(f"{path}/Comments", auth=bob.auth), 404, 20404)
    assert_error(await comment(http, alice, f"{ORDERS}/PO{'0' * 32}", "hello"), 404, 20404)
    assert await snapshot(svc) == before
    sub = await tenant(svc, alice)  # a subaccount sees only its own
    assert_error(await comment(http, sub, path, "hello"), 404, 20404)


@pytest.mark.parametrize("text", ["", "   \n", "x" * (MAX_BODY + 1), "nul\x00byte"])
async def test_a_bad_body_is_21850_and_nothing_is_stored(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, text: str
) -> None:
    order = await new_order(http, alice)
    before = await snapshot(svc)
    r = assert_error(await comment(http, alice, f"{ORDERS}/{order['sid']}", text), 400, 21850)
    assert text.strip() == "" or text[:20] not in r["message"]
    assert await snapshot(svc) == before


async def test_a_bad_body_on_a_port_request_is_21850_and_nothing_is_stored(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    created = await http.post("/porting/PortRequests", json=request_input(), auth=alice.auth)
    assert created.status_code == 201, created.text
    path = f"/porting/PortRequests/{created.json()['sid']}"
    before = await snapshot(svc)
    assert_error(await comment(http, alice, path, ""), 400, 21850)
    assert_error(await comment(http, alice, path, "x" * (MAX_BODY + 1)), 400, 21850)
    assert_error(
        await comment(http, alice, f"/porting/PortRequests/PR{'0' * 32}", "hi"), 404, 20404
    )
    assert await snapshot(svc) == before


async def test_the_longest_body_is_taken(http: httpx.AsyncClient, alice: Tenant) -> None:
    order = await new_order(http, alice)
    r = await comment(http, alice, f"{ORDERS}/{order['sid']}", "é" * MAX_BODY)
    assert r.status_code == 201 and len(r.json()["body"]) == MAX_BODY


async def test_a_comment_is_a_callback_and_a_mail_to_the_other_side(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, op: Tenant
) -> None:
    svc.settings.operator_email = "porting-team@example.net"
    order = await new_order(
        http,
        alice,
        status_callback="https://hooks.example.com/portico",
        status_updates_email="ops@example.org",
    )
    path = f"{ORDERS}/{order['sid']}"
    evil = '<script>alert("x")</script> & <b>bold</b>'
    assert (await comment(http, alice, path, evil)).status_code == 201
    assert (await comment(http, op, path, "Please send a bill.")).status_code == 201

    callbacks = [
        d for d in await deliveries_of(svc, "status_callback") if d.port_order_sid == order["sid"]
    ]
    mails_ = await deliveries_of(svc, "comment")
    assert len(callbacks) >= 2  # CREATED, PENDING, and one per comment
    assert [m.target for m in mails_] == ["porting-team@example.net", "ops@example.org"]

    async with svc.db.read() as s:
        event = await queries.event_by_id(s, mails_[0].event_id)
    assert event is not None
    assert event.payload["callback_type"] == ["comment_added"]
    assert {k: event.payload[k] for k in ("author_type", "body", "port_order_sid")} == {
        "author_type": "customer",
        "body": evil,
        "port_order_sid": order["sid"],
    }
    assert mails_[0].event_id in {c.event_id for c in callbacks}

    message = await mails.compose(svc, mails_[0])
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    html_text, plain = html.get_content(), text.get_content()
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert "&amp;" in html_text
    assert evil in plain
    assert message["To"] == "porting-team@example.net"


async def test_without_an_operator_address_a_customer_comment_is_not_mailed(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    order = await new_order(http, alice)
    assert (await comment(http, alice, f"{ORDERS}/{order['sid']}", "hi")).status_code == 201
    assert await deliveries_of(svc, "comment") == []


async def test_graphql_add_comment_and_the_connection(
    gql: GraphQL, svc: Services, alice: Tenant, bob: Tenant, op: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    for who, text in ((alice, "one"), (op, "two"), (alice, "three")):
        data = await gql(ADD, {"s": order.sid, "b": text}, as_=who)
        assert data["addComment"]["userErrors"] == []
    added = data["addComment"]["comment"]
    assert added["authorType"] == "CUSTOMER" and added["subjectSid"] == order.sid

    page = (await gql(THREAD, {"sid": order.sid}, as_=alice))["portOrder"]["comments"]
    assert page["totalCount"] == 3
    assert [(e["node"]["authorType"], e["node"]["body"]) for e in page["edges"]] == [
        ("CUSTOMER", "one"),
        ("OPERATOR", "two"),
    ]
    assert page["pageInfo"]["hasNextPage"]
    after = page["pageInfo"]["endCursor"]
    rest = (await gql(THREAD, {"sid": order.sid, "after": after}, as_=alice))["portOrder"]
    assert [e["node"]["body"] for e in rest["comments"]["edges"]] == ["three"]

    before = await snapshot(svc)
    refused = (await gql(ADD, {"s": order.sid, "b": "hi"}, as_=bob))["addComment"]
    assert refused["comment"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [(20404, ["subjectSid"])]
    empty = (await gql(ADD, {"s": order.sid, "b": ""}, as_=alice))["addComment"]
    assert [(e["code"], e["field"]) for e in empty["userErrors"]] == [(21850, ["body"])]
    assert await snapshot(svc) == before


COMMENTS = """
subscription ($s: ID, $after: String) {
  commentAdded(subjectSid: $s, after: $after) {
    cursor subjectSid comment { sid authorType body }
  }
}
"""


async def test_comment_added_streams_the_thread_live_and_from_a_cursor(
    live: Live, svc: Services, alice: Tenant, bob: Tenant, op: Tenant
) -> None:
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    theirs = await port_orders.create_port_order(svc, bob.caller, order_input())
    await live.graphql(ADD, {"s": mine.sid, "b": "before"}, as_=alice)
    async with gql_client(live, alice, "graphql-transport-ws") as session:
        everything = subscribe_gql(session, COMMENTS, {"after": "0"})
        (replayed,) = [r["commentAdded"] for r in await take(everything, 1)]
        assert (replayed["subjectSid"], replayed["comment"]["body"]) == (mine.sid, "before")
        await live.graphql(ADD, {"s": theirs.sid, "b": "not for alice"}, as_=bob)
        await live.graphql(ADD, {"s": mine.sid, "b": "<i>live</i>"}, as_=op)
        (got,) = [r["commentAdded"] for r in await take(everything, 1)]
        assert got["comment"] == {
            "sid": got["comment"]["sid"],
            "authorType": "OPERATOR",
            "body": "<i>live</i>",
        }
        assert int(got["cursor"]) > int(replayed["cursor"])
    async with gql_client(live, bob, "graphql-transport-ws") as session:
        refused = subscribe_gql(session, COMMENTS, {"s": mine.sid})
        with pytest.raises(Exception, match="not found"):
            await take(refused, 1)
