"""Exceptions and fix-and-resubmit (issue 13 point 5).

- The sandbox: each exception ending (0011 to 0017) is rejected on the first submission with
  its type and accepted once submitted again.
- Operators reject with an exception (`setPortOrderStatus(exceptionType, fieldsToFix)`); bad
  values are refused and store nothing; an account may not.
- The whole run through a real uvicorn (scheduler, delivery worker, sandbox at STEP pace):
  rejected with PIN_INVALID, the PIN updated, submitted again on the still signed LOA (no new
  signature: neither signer nor address changed), accepted, completed; watched as callbacks on
  a loopback receiver (status changes and `comment_added`) and as the order's comment thread.
- The same with NAME_MISMATCH: the signer's name fixed, so a new LOA is signed on the page
  before the order goes to the carrier again.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.adapters.sandbox import EXCEPTIONS, SandboxCarrier
from app.config import Settings
from app.porting.carrier import Accept, CarrierOrder, Reject
from app.porting.exceptions import DEFAULT_FIELDS, ExceptionType
from app.services import loa_signing, port_orders
from app.services.context import Services
from tests.builders import Tenant, camel, mobile_input, order_input
from tests.conftest import GraphQL, LiveServer, snapshot
from tests.delivery.receiver import Receiver
from tests.operators.live import DEADLINE, SHOWN, sign_from_the_email
from tests.operators.support import CREATE, SIGN_LOA, STEP

pytestmark = pytest.mark.dialects("sqlite", "postgres")

REJECT = """
mutation ($sid: ID!, $type: PortOrderExceptionType, $fix: [String!], $status: PortOrderStatus!) {
  setPortOrderStatus(sid: $sid, status: $status, reason: "Carrier says no", errorCode: 21831,
                     exceptionType: $type, fieldsToFix: $fix) {
    portOrder { status exception { type fieldsToFix } }
    userErrors { code field message }
  }
}
"""
ORDER = """
query ($sid: ID!) {
  portOrder(sid: $sid) {
    sid status loaSid exception { type fieldsToFix } errors { code }
    comments { edges { node { authorType body } } }
  }
}
"""
UPDATE = """
mutation ($sid: ID!, $input: UpdatePortOrderInput!) {
  updatePortOrder(sid: $sid, input: $input) {
    portOrder { status loaSid exception { type } } userErrors { code field message }
  }
}
"""
# Not hex: a random SID in a callback cannot contain it (a digits-only PIN could, by chance).
NEW_PIN = "NewPin2468"
ADD = """
mutation ($s: ID!, $b: String!) { addComment(subjectSid: $s, body: $b) { userErrors { code } } }
"""


def _order(number: str, submissions: int) -> CarrierOrder:
    return CarrierOrder(
        sid="PO" + "0" * 32,
        number=number,
        port_type="MOBILE",
        status="SUBMITTED",
        current_carrier="Sandbox Mobile",
        activation_date=None,
        submitted_date=None,
        submissions=submissions,
    )


@pytest.mark.dialects("sqlite")
@pytest.mark.parametrize("ending", sorted(EXCEPTIONS))
async def test_the_sandbox_rejects_each_exception_once(ending: str) -> None:
    carrier, now = SandboxCarrier(), datetime(2026, 12, 1, tzinfo=UTC)
    first = await carrier.answer(_order(f"+1415555{ending}", 1), now)
    assert isinstance(first, Reject) and first.exception_type is EXCEPTIONS[ending]
    assert first.error_code == 21831
    again = await carrier.answer(_order(f"+1415555{ending}", 2), now)
    assert isinstance(again, Accept)
    assert set(DEFAULT_FIELDS) == set(EXCEPTIONS.values())  # one ending per type


@pytest.mark.dialects("sqlite")
def test_the_readme_sandbox_table_gives_one_ending_per_exception_type() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("\n## Sandbox carrier\n", 1)[1].split("\n## ", 1)[0]
    (row,) = [line for line in table.splitlines() if line.startswith("| `0011` to `0017` |")]
    documented = dict(re.findall(r"`(\d{4})` ([A-Z_]+)", row))
    assert documented == {ending: kind.value for ending, kind in EXCEPTIONS.items()}
    assert sorted(documented.values()) == sorted(e.value for e in ExceptionType)


async def test_an_operator_rejects_with_an_exception(
    gql: GraphQL, svc: Services, alice: Tenant, op: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    await gql(REJECT, {"sid": order.sid, "status": "REVIEW"}, as_=op)
    got = (
        await gql(
            REJECT,
            {"sid": order.sid, "status": "REJECTED", "type": "ADDRESS_MISMATCH", "fix": None},
            as_=op,
        )
    )["setPortOrderStatus"]
    assert got["userErrors"] == []
    assert got["portOrder"] == {
        "status": "REJECTED",
        "exception": {
            "type": "ADDRESS_MISMATCH",
            "fieldsToFix": ["street", "city", "region", "postal_code"],
        },
    }
    thread = (await gql(ORDER, {"sid": order.sid}, as_=alice))["portOrder"]["comments"]
    (explained,) = [e["node"] for e in thread["edges"]]
    assert explained["authorType"] == "SYSTEM" and "ADDRESS_MISMATCH" in explained["body"]
    assert "street, city, region, postal_code" in explained["body"]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"status": "REJECTED", "fix": ["pin_number", "favourite_colour"]}, 21857),
        ({"status": "REJECTED", "fix": ["status"]}, 21857),
        ({"status": "REVIEW", "type": "PIN_INVALID"}, 21858),
    ],
)
async def test_a_bad_exception_is_refused_and_nothing_is_stored(
    gql: GraphQL,
    svc: Services,
    alice: Tenant,
    op: Tenant,
    variables: dict[str, Any],
    code: int,
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    before = await snapshot(svc)
    got = (await gql(REJECT, {"sid": order.sid, **variables}, as_=op))["setPortOrderStatus"]
    assert got["portOrder"] is None
    assert [e["code"] for e in got["userErrors"]] == [code]
    assert "favourite_colour" not in got["userErrors"][0]["message"]
    assert await snapshot(svc) == before
    by_alice = await gql(REJECT, {"sid": order.sid, "status": "REJECTED"}, as_=alice)
    assert [e["code"] for e in by_alice["setPortOrderStatus"]["userErrors"]] == [20403]
    assert await snapshot(svc) == before


async def _until(live: GraphQL, who: Tenant, sid: str, status: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        order: dict[str, Any] = (await live(ORDER, {"sid": sid}, as_=who))["portOrder"]
        if order["status"] == status:
            return order
        assert loop.time() < deadline, f"{sid} stayed {order['status']}, not {status}"
        await asyncio.sleep(STEP / 4)


async def _callbacks(receiver: Receiver, path: str, done: Any) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        got = [
            json.loads(r.body)
            for r in list(receiver.received)
            if r.url.split("?")[0].endswith(path)
        ]
        if done(got):
            return got
        assert loop.time() < deadline, got
        await asyncio.sleep(0.05)


async def test_rejected_for_its_pin_fixed_and_resubmitted_through_the_sandbox(
    live: GraphQL, live_settings: Settings, receiver: Receiver, alice: Tenant, op: Tenant
) -> None:
    number = "+14155550012"  # PIN_INVALID on the first submission
    hook = receiver.url("/callbacks/fix")
    raw = mobile_input(number=number, pin_number="1111", status_callback=hook)
    created = (await live(CREATE, {"input": camel(raw)}, as_=alice))["createPortOrder"]
    assert created["userErrors"] == []
    sid, loa_sid = created["portOrder"]["sid"], created["portOrder"]["loaSid"]
    assert (await live(SIGN_LOA, {"sid": loa_sid}, as_=alice))["signLoa"]["userErrors"] == []
    await sign_from_the_email(live_settings.mail_dir)

    # The carrier rejects it: the exception names the PIN, and Portico says so on the thread.
    rejected = await _until(live, alice, sid, "REJECTED")
    assert rejected["exception"] == {"type": "PIN_INVALID", "fieldsToFix": ["pin_number"]}
    assert [e["code"] for e in rejected["errors"]] == [21831]
    (system,) = [e["node"] for e in rejected["comments"]["edges"]]
    assert system["authorType"] == "SYSTEM" and "PIN_INVALID" in system["body"]

    # The customer and the porting team talk it over on the thread.
    said = await live(ADD, {"s": sid, "b": "Sorry, we had an old PIN on file: updated."}, as_=alice)
    assert said["addComment"]["userErrors"] == []
    said = await live(ADD, {"s": sid, "b": "Thanks: resubmitted."}, as_=op)
    assert said["addComment"]["userErrors"] == []

    # The fix: the PIN. Signer and address are unchanged, so the signed LOA still holds and the
    # order goes straight back to the carrier (PENDING, then SUBMITTED).
    fixed = await live(UPDATE, {"sid": sid, "input": {"pinNumber": NEW_PIN}}, as_=alice)
    assert fixed["updatePortOrder"]["userErrors"] == []
    assert fixed["updatePortOrder"]["portOrder"] == {
        "status": "SUBMITTED",
        "loaSid": loa_sid,
        "exception": None,
    }
    done = await _until(live, alice, sid, "COMPLETED")
    assert done["exception"] is None
    assert [(c["node"]["authorType"]) for c in done["comments"]["edges"]] == [
        "SYSTEM",
        "CUSTOMER",
        "OPERATOR",
    ]

    def complete(got: list[dict[str, Any]]) -> bool:
        completed = sum(p.get("status") == "COMPLETED" for p in got)
        commented = sum(p["callback_type"] == ["comment_added"] for p in got)
        return bool(completed == 1 and commented == 3)

    got = await _callbacks(receiver, "/callbacks/fix", complete)
    statuses = [p["status"] for p in got if "status" in p]
    for status in ("REJECTED", "ACCEPTED", "COMPLETED"):
        assert statuses.count(status) == 1, statuses
    assert statuses.count("SUBMITTED") == 2 and statuses.count("PENDING") == 2
    (rejection,) = [p for p in got if p.get("status") == "REJECTED"]
    assert rejection["exception"] == {"type": "PIN_INVALID", "fields_to_fix": ["pin_number"]}
    comments = [p for p in got if p["callback_type"] == ["comment_added"]]
    assert sorted(p["author_type"] for p in comments) == ["customer", "operator", "system"]
    assert {p["port_order_sid"] for p in comments} == {sid}
    assert {p["sid"][:2] for p in comments} == {"CM"}
    assert "Sorry, we had an old PIN on file: updated." in {p["body"] for p in comments}
    assert NEW_PIN not in json.dumps(got)  # the PIN is write-only
    received = [r for r in list(receiver.received) if "/callbacks/fix" in r.url]
    assert received and all(r.twilio_valid(alice.token) for r in received)  # all signed


async def _sign(live_server: LiveServer, svc: Services, loa_sid: str, name: str) -> None:
    """The signer opens the signing page of this LOA (the link its email carries) and signs."""
    token = loa_signing.signing_link(svc, loa_sid).rsplit("/", 1)[1]
    link = f"{live_server.url}/loa/sign/{token}"
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(link)
        assert page.status_code == 200, page.text
        shown = SHOWN.search(page.text)
        assert shown is not None
        form = {"signer_name": name, "agree": "yes", "text_sha256": shown.group(1)}
        signed = await browser.post(link, data=form)
        assert signed.status_code == 200, signed.text


async def test_rejected_for_the_name_fixed_re_signed_and_resubmitted_through_the_sandbox(
    live: GraphQL, live_server: LiveServer, svc: Services, receiver: Receiver, alice: Tenant
) -> None:
    number = "+14155550013"  # NAME_MISMATCH on the first submission
    hook = receiver.url("/callbacks/name")
    raw = order_input(number=number, status_callback=hook)
    created = (await live(CREATE, {"input": camel(raw)}, as_=alice))["createPortOrder"]
    sid, first_loa = created["portOrder"]["sid"], created["portOrder"]["loaSid"]
    assert (await live(SIGN_LOA, {"sid": first_loa}, as_=alice))["signLoa"]["userErrors"] == []
    await _sign(live_server, svc, first_loa, "James Smith")

    rejected = await _until(live, alice, sid, "REJECTED")
    assert rejected["exception"] == {
        "type": "NAME_MISMATCH",
        "fieldsToFix": ["first_name", "last_name"],
    }

    # The signer's name changes: the signed letter no longer holds, a new one is to be signed.
    fixed = await live(UPDATE, {"sid": sid, "input": {"firstName": "Jamie"}}, as_=alice)
    assert fixed["updatePortOrder"]["userErrors"] == []
    order = fixed["updatePortOrder"]["portOrder"]
    assert order["status"] == "PENDING" and order["loaSid"] != first_loa
    assert (await live(SIGN_LOA, {"sid": order["loaSid"]}, as_=alice))["signLoa"][
        "userErrors"
    ] == []
    await _sign(live_server, svc, order["loaSid"], "Jamie Smith")
    done = await _until(live, alice, sid, "COMPLETED")
    assert done["loaSid"] == order["loaSid"] and done["exception"] is None

    def complete(got: list[dict[str, Any]]) -> bool:
        return any(p.get("status") == "COMPLETED" for p in got)

    got = await _callbacks(receiver, "/callbacks/name", complete)
    statuses = [p["status"] for p in got if "status" in p]
    assert statuses.count("SUBMITTED") == 2 and statuses.count("REJECTED") == 1
