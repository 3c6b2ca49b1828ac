"""FOC windows (issue 13 point 4): the allowed dates over a US holiday week (Christmas and New
Year 2026), a requested date on a weekend or holiday moved with its reason, one beyond 30 days
refused with 21814 (nothing stored), REST and GraphQL, the tenant rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from app.porting import windows
from app.services.context import Services
from tests.builders import Tenant, camel, order_input
from tests.conftest import GraphQL, snapshot
from tests.rest.conftest import ORDERS, assert_error

# Friday 18 December 2026, 15:00 UTC: 3 business days (UNKNOWN) -> Wednesday 23 December.
NOW = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
EARLIEST = datetime(2026, 12, 23, 15, 0, tzinfo=UTC)
# Business days of US-CA from the earliest date to 30 days out (17 January 2027): Christmas
# (Fri 25 Dec) and New Year's Day (Fri 1 Jan) and the weekends are skipped.
ALLOWED = [
    date(2026, 12, 23),
    date(2026, 12, 24),
    date(2026, 12, 28),
    date(2026, 12, 29),
    date(2026, 12, 30),
    date(2026, 12, 31),
    date(2027, 1, 4),
    date(2027, 1, 5),
    date(2027, 1, 6),
    date(2027, 1, 7),
    date(2027, 1, 8),
    date(2027, 1, 11),
    date(2027, 1, 12),
    date(2027, 1, 13),
    date(2027, 1, 14),
    date(2027, 1, 15),
]
WINDOWS = """
query ($sid: ID!, $n: Int!) {
  portOrder(sid: $sid) { activationWindows(first: $n) { date activationDate } }
}
"""


@pytest.fixture
def frozen(svc: Services) -> Services:
    svc.clock = lambda: NOW
    return svc


def test_the_windows_skip_weekends_and_the_holiday_weeks() -> None:
    got = windows.windows(EARLIEST, NOW, "US", "CA", 31)
    assert [d.date() for d in got] == ALLOWED
    assert all(d.time() == EARLIEST.time() for d in got)
    assert windows.windows(EARLIEST, NOW, "US", "CA", 3) == got[:3]
    # A country the calendar does not know skips weekends only.
    assert date(2026, 12, 25) in [d.date() for d in windows.windows(EARLIEST, NOW, "ZZ", None, 31)]


async def test_rest_activation_windows(
    http: httpx.AsyncClient, frozen: Services, alice: Tenant, bob: Tenant
) -> None:
    order = (await http.post(ORDERS, json=order_input(), auth=alice.auth)).json()
    r = await http.get(f"{ORDERS}/{order['sid']}/ActivationWindows", auth=alice.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["port_order_sid"] == order["sid"]
    assert body["earliest_activation_date"] == "2026-12-23T15:00:00Z"
    assert body["latest_activation_date"] == "2027-01-17T23:59:59Z"
    assert [w["date"] for w in body["activation_windows"]] == [d.isoformat() for d in ALLOWED]
    assert body["activation_windows"][2] == {
        "date": "2026-12-28",
        "activation_date": "2026-12-28T15:00:00Z",
    }
    r = await http.get(f"{ORDERS}/{order['sid']}/ActivationWindows", auth=bob.auth)
    assert_error(r, 404, 20404)


@pytest.mark.parametrize(
    ("asked", "placed", "why"),
    [
        ("2026-12-26T15:00:00Z", "2026-12-28T15:00:00Z", "is a Saturday in US-CA"),
        ("2026-12-25T09:30:00-08:00", "2026-12-28T17:30:00Z", "public holiday (Christmas Day)"),
        ("2026-12-20T15:00:00Z", "2026-12-23T15:00:00Z", "before the earliest activation date"),
        ("2027-01-09T20:00:00Z", "2027-01-11T20:00:00Z", "is a Saturday"),
    ],
)
async def test_a_requested_date_that_is_no_business_day_moves_and_says_why(
    http: httpx.AsyncClient, frozen: Services, alice: Tenant, asked: str, placed: str, why: str
) -> None:
    r = await http.post(ORDERS, json=order_input(activation_date=asked), auth=alice.auth)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["activation_date"] == placed
    assert why in order["activation_date_reason"]
    assert placed[:10] in order["activation_date_reason"]


async def test_an_allowed_date_is_kept_without_a_reason(
    http: httpx.AsyncClient, frozen: Services, alice: Tenant
) -> None:
    asked = "2026-12-29T16:00:00Z"
    order = await http.post(ORDERS, json=order_input(activation_date=asked), auth=alice.auth)
    assert (order.json()["activation_date"], order.json()["activation_date_reason"]) == (
        asked,
        None,
    )


# The 18th is past the horizon; the 17th is a Sunday whose next business day (the 19th, after
# Martin Luther King Jr. Day) is too.
@pytest.mark.parametrize(
    "asked", ["2027-01-18T00:00:00Z", "2027-06-01T15:00:00Z", "2027-01-17T20:00:00Z"]
)
async def test_beyond_thirty_days_is_21814_and_nothing_is_stored(
    http: httpx.AsyncClient, frozen: Services, alice: Tenant, asked: str
) -> None:
    kept = (await http.post(ORDERS, json=order_input(), auth=alice.auth)).json()
    before = await snapshot(frozen)
    r = await http.post(ORDERS, json=order_input(activation_date=asked), auth=alice.auth)
    body = assert_error(r, 400, 21814)
    assert "30 days" in body["message"] and asked[:10] not in body["message"]
    r = await http.post(f"{ORDERS}/{kept['sid']}", json={"activation_date": asked}, auth=alice.auth)
    assert_error(r, 400, 21814)
    r = await http.post(
        "/porting/PortRequests",
        json={**order_input(number=...), "numbers": ["+14155552990"], "activation_date": asked},
        auth=alice.auth,
    )
    assert_error(r, 400, 21814)
    assert await snapshot(frozen) == before


async def test_an_update_that_keeps_its_date_is_not_refused_later(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    svc.clock = lambda: NOW
    order = (
        await http.post(
            ORDERS, json=order_input(activation_date="2027-01-15T15:00:00Z"), auth=alice.auth
        )
    ).json()
    svc.clock = lambda: NOW - timedelta(days=10)  # the date is now more than 30 days out
    r = await http.post(f"{ORDERS}/{order['sid']}", json={"friendly_name": "Desk"}, auth=alice.auth)
    assert r.status_code == 200, r.text
    assert r.json()["activation_date"] == "2027-01-15T15:00:00Z"


async def test_graphql_activation_windows(
    gql: GraphQL, http: httpx.AsyncClient, frozen: Services, alice: Tenant
) -> None:
    order = (await http.post(ORDERS, json=order_input(), auth=alice.auth)).json()
    data = await gql(WINDOWS, {"sid": order["sid"], "n": 3}, as_=alice)
    assert data["portOrder"]["activationWindows"] == [
        {"date": "2026-12-23", "activationDate": "2026-12-23T15:00:00Z"},
        {"date": "2026-12-24", "activationDate": "2026-12-24T15:00:00Z"},
        {"date": "2026-12-28", "activationDate": "2026-12-28T15:00:00Z"},
    ]
    default = await gql(
        "query ($sid: ID!) { portOrder(sid: $sid) { activationWindows { date } } }",
        {"sid": order["sid"]},
        as_=alice,
    )
    assert len(default["portOrder"]["activationWindows"]) == 10
    # `first: Int = 10`: an explicit null is the default too
    nulled = await gql(
        "query ($sid: ID!, $n: Int) { portOrder(sid: $sid) { activationWindows(first: $n) "
        "{ date } } }",
        {"sid": order["sid"], "n": None},
        as_=alice,
    )
    assert nulled["portOrder"]["activationWindows"] == default["portOrder"]["activationWindows"]
    arg = await gql(
        '{ __type(name: "PortOrder") { fields { name args { name defaultValue '
        "type { kind name } } } } }",
        as_=alice,
    )
    (field,) = [f for f in arg["__type"]["fields"] if f["name"] == "activationWindows"]
    assert field["args"] == [
        {"name": "first", "defaultValue": "10", "type": {"kind": "SCALAR", "name": "Int"}}
    ]
    errors = await gql.errors(WINDOWS, {"sid": order["sid"], "n": 0}, as_=alice)
    assert errors[0]["extensions"]["code"] == 20001


CREATE = """
mutation ($input: CreatePortOrderInput!) {
  createPortOrder(input: $input) {
    portOrder { activationDate activationDateReason } userErrors { code field message }
  }
}
"""


async def test_graphql_a_weekend_date_moves_and_one_too_far_is_21814(
    gql: GraphQL, frozen: Services, alice: Tenant
) -> None:
    raw = camel(order_input(activation_date="2026-12-26T15:00:00Z"))  # a Saturday
    got = (await gql(CREATE, {"input": raw}, as_=alice))["createPortOrder"]
    assert got["userErrors"] == []
    order = got["portOrder"]
    assert order["activationDate"] == "2026-12-28T15:00:00Z"
    assert "is a Saturday in US-CA" in order["activationDateReason"]
    before = await snapshot(frozen)
    raw = camel(order_input(activation_date="2027-01-18T00:00:00Z"))
    refused = (await gql(CREATE, {"input": raw}, as_=alice))["createPortOrder"]
    assert refused["portOrder"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        (21814, ["input", "activationDate"])
    ]
    assert "30 days" in refused["userErrors"][0]["message"]
    assert await snapshot(frozen) == before
