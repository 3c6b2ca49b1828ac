"""REST `/porting/PortRequests` and `/porting/PortabilityChecks` (CONTRACT.md §11), on SQLite
and PostgreSQL: creates of 1, 100 and 1,000 numbers, numbers with errors with and without
`all_or_nothing`, the limits, form bodies, idempotency, and who sees what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.rest.serializers import (
    NUMBER_FIELDS,
    PORT_ORDER_FIELDS,
    PORT_REQUEST_FIELDS,
    PORT_REQUEST_LIST_FIELDS,
    PORTABILITY_FIELDS,
)
from app.services.context import Services
from tests.builders import Tenant, numbers, order_input, request_input, tenant
from tests.conftest import snapshot
from tests.rest.conftest import ORDERS, assert_error

REQUESTS = "/porting/PortRequests"
CHECKS = "/porting/PortabilityChecks"


async def create(http: httpx.AsyncClient, who: Tenant, raw: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(REQUESTS, json=raw, auth=who.auth)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize("size", [1, 100, 1000])
async def test_create_one_hundred_and_a_thousand(
    http: httpx.AsyncClient, alice: Tenant, size: int
) -> None:
    given = numbers(size)
    body = await create(http, alice, request_input(given))
    assert tuple(body) == PORT_REQUEST_FIELDS
    assert body["sid"].startswith("PR") and body["account_sid"] == alice.sid
    assert (body["status"], body["number_count"], body["counts"]["PENDING"]) == (
        "PENDING",
        size,
        size,
    )
    assert [n["number"] for n in body["numbers"]] == given
    assert all(tuple(n) == NUMBER_FIELDS for n in body["numbers"])
    assert {(n["status"], len(n["errors"])) for n in body["numbers"]} == {("PENDING", 0)}
    assert body["url"] == f"http://testserver{REQUESTS}/{body['sid']}"
    assert len(body["loa_sids"]) == 1  # one owner, address and port type: one LOA

    got = await http.get(f"{REQUESTS}/{body['sid']}", auth=alice.auth)
    assert got.status_code == 200 and got.json() == body
    listed = (await http.get(REQUESTS, auth=alice.auth)).json()
    assert listed["meta"]["key"] == "port_requests"
    (entry,) = listed["port_requests"]
    assert tuple(entry) == PORT_REQUEST_LIST_FIELDS  # the instance without its numbers
    assert entry == {k: v for k, v in body.items() if k != "numbers"}

    query = {"PortRequestSid": body["sid"], "PageSize": "1000"}
    orders = (await http.get(ORDERS, params=query, auth=alice.auth)).json()["orders"]
    assert sorted(o["sid"] for o in orders) == sorted(n["port_order_sid"] for n in body["numbers"])
    assert {o["port_request_sid"] for o in orders} == {body["sid"]}
    assert tuple(orders[0]) == PORT_ORDER_FIELDS


async def test_numbers_with_errors_are_left_out_unless_all_or_nothing(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    held = (await http.post(ORDERS, json=order_input(), auth=alice.auth)).json()["number"]
    good, twice = numbers(2)
    entries: list[Any] = [good, "12345", twice, held, twice, {"number": "+14155230001"}]
    before = await snapshot(svc)
    r = await http.post(REQUESTS, json=request_input(entries, all_or_nothing=True), auth=alice.auth)
    body = assert_error(r, 400, 21812)
    assert [(d["code"], d["field"]) for d in body["details"]] == [
        (21812, "numbers[1].number"),
        (21837, "numbers[3].number"),
        (21839, "numbers[4].number"),
        (21827, "numbers[5].number"),
    ]
    assert await snapshot(svc) == before

    made = await create(http, alice, request_input(entries))
    outcome = [
        (n["number"], n["status"], [e["code"] for e in n["errors"]]) for n in made["numbers"]
    ]
    assert outcome == [
        (good, "PENDING", []),
        ("12345", None, [21812]),
        (twice, "PENDING", []),
        (held, None, [21837]),
        (twice, None, [21839]),
        ("+14155230001", None, [21827]),
    ]
    assert (made["number_count"], made["counts"]["PENDING"]) == (6, 2)
    assert [n["port_order_sid"] is not None for n in made["numbers"]] == [
        True,
        False,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (request_input(numbers(1001)), 400, 21841),
        (request_input([]), 400, 21840),
        (request_input(numbers(2), street=""), 400, 21806),
        (request_input(["nope", "+1"]), 400, 21812),
        (request_input(numbers(1), all_or_nothing="sometimes"), 400, 20001),
    ],
    ids=["max-plus-one", "no-numbers", "shared-error", "every-number-refused", "bad-flag"],
)
async def test_refusals_store_nothing(
    http: httpx.AsyncClient,
    svc: Services,
    alice: Tenant,
    raw: dict[str, Any],
    status: int,
    code: int,
) -> None:
    before = await snapshot(svc)
    r = await http.post(REQUESTS, json=raw, auth=alice.auth)
    assert_error(r, status, code)
    assert await snapshot(svc) == before


async def test_a_form_repeats_numbers(http: httpx.AsyncClient, alice: Tenant) -> None:
    a, b = numbers(2)
    shared = {k: str(v) for k, v in request_input().items() if k != "numbers"}
    form: list[tuple[str, str | int | float | bool | None]] = [
        *shared.items(),
        ("Numbers", a),
        ("Numbers", b),
        ("AllOrNothing", "true"),
    ]
    assert_error(await http.post(REQUESTS, data=shared, auth=alice.auth), 400, 21840)
    content = httpx.QueryParams(form)
    r = await http.post(
        REQUESTS,
        content=str(content),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=alice.auth,
    )
    assert r.status_code == 201, r.text
    assert [n["number"] for n in r.json()["numbers"]] == [a, b]
    # PascalCase entry keys in JSON, as the other parameters
    c = numbers(1)[0]
    body = await create(http, alice, request_input([{"Number": c, "FriendlyName": "Desk"}]))
    order = await http.get(f"{ORDERS}/{body['numbers'][0]['port_order_sid']}", auth=alice.auth)
    assert order.json()["friendly_name"] == "Desk"


async def test_idempotent_create(http: httpx.AsyncClient, svc: Services, alice: Tenant) -> None:
    raw = request_input()
    key = {"Idempotency-Key": "bulk-1"}
    first = await http.post(REQUESTS, json=raw, headers=key, auth=alice.auth)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    after = await snapshot(svc)
    again = await http.post(REQUESTS, json=raw, headers=key, auth=alice.auth)
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert await snapshot(svc) == after
    other = await http.post(REQUESTS, json=request_input(), headers=key, auth=alice.auth)
    assert_error(other, 422, 20422)
    # the same key on the orders' create is another request
    order = await http.post(ORDERS, json=order_input(), headers=key, auth=alice.auth)
    assert_error(order, 422, 20422)
    assert await snapshot(svc) == after


async def test_who_sees_a_request(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    body = await create(http, alice, request_input())
    sid = body["sid"]
    before = await snapshot(svc)
    for method in ("GET", "DELETE"):
        assert_error(await http.request(method, f"{REQUESTS}/{sid}", auth=bob.auth), 404, 20404)
        assert_error(await http.request(method, f"{REQUESTS}/PR%00", auth=alice.auth), 404, 20404)
        assert_error(await http.request(method, f"{REQUESTS}/{sid}"), 401, 20003)
    assert (await http.get(REQUESTS, auth=bob.auth)).json()["port_requests"] == []
    query = {"PortRequestSid": sid}
    assert (await http.get(ORDERS, params=query, auth=bob.auth)).json()["orders"] == []
    assert await snapshot(svc) == before
    assert_error(await http.put(f"{REQUESTS}/{sid}", auth=alice.auth), 405, 20004)
    assert_error(await http.get(CHECKS, auth=alice.auth), 405, 20004)
    assert_error(await http.post(CHECKS, json={"numbers": ["+1"]}), 401, 20003)
    sub = await tenant(svc, parent=alice)
    made = await create(http, alice, request_input(account_sid=sub.sid))
    assert made["account_sid"] == sub.sid
    assert (await http.get(f"{REQUESTS}/{made['sid']}", auth=sub.auth)).status_code == 200
    assert_error(await http.get(f"{REQUESTS}/{sid}", auth=sub.auth), 404, 20404)
    r = await http.get(REQUESTS, params={"Status": "nope"}, auth=alice.auth)
    assert_error(r, 400, 20001)
    r = await http.get(REQUESTS, params={"AfterSid": sid}, auth=bob.auth)
    assert_error(r, 400, 21826)


async def test_cancel_answers_each_number(http: httpx.AsyncClient, alice: Tenant) -> None:
    body = await create(http, alice, request_input(numbers(2) + ["bad"]))
    r = await http.delete(f"{REQUESTS}/{body['sid']}", auth=alice.auth)
    assert r.status_code == 200, r.text
    canceled = r.json()
    assert (canceled["status"], canceled["counts"]["CANCELED"]) == ("CANCELED", 2)
    assert [(n["status"], [e["code"] for e in n["errors"]]) for n in canceled["numbers"]] == [
        ("CANCELED", []),
        ("CANCELED", []),
        (None, [21812]),
    ]
    again = (await http.delete(f"{REQUESTS}/{body['sid']}", auth=alice.auth)).json()
    assert [[e["code"] for e in n["errors"]] for n in again["numbers"]] == [
        [21830],
        [21830],
        [21812],
    ]
    listed = await http.get(REQUESTS, params={"Status": "canceled"}, auth=alice.auth)
    assert [x["sid"] for x in listed.json()["port_requests"]] == [body["sid"]]


async def test_portability_checks(http: httpx.AsyncClient, svc: Services, alice: Tenant) -> None:
    free = numbers(1)[0]
    before = await snapshot(svc)
    r = await http.post(CHECKS, json={"numbers": [free, "+14155230001", "?"]}, auth=alice.auth)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert all(tuple(x) == PORTABILITY_FIELDS for x in results)
    assert [(x["number"], x["portable"], x["not_portable_reason_code"]) for x in results] == [
        (free, True, None),
        ("+14155230001", False, 21827),
        ("?", False, 21812),
    ]
    assert results[0]["port_type"] == "UNKNOWN" and results[0]["current_carrier"]
    form = httpx.QueryParams([("Numbers", free), ("Numbers", "+14155230001")])
    r = await http.post(
        CHECKS,
        content=str(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=alice.auth,
    )
    assert [x["portable"] for x in r.json()["results"]] == [True, False]
    assert_error(
        await http.post(CHECKS, json={"numbers": numbers(1001)}, auth=alice.auth), 400, 21841
    )
    assert_error(await http.post(CHECKS, json={}, auth=alice.auth), 400, 21840)
    assert await snapshot(svc) == before
