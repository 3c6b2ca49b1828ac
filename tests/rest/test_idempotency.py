"""Idempotent creates (issue point 7), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from app.services.context import Services
from tests.builders import Tenant, order_input, tenant
from tests.conftest import snapshot
from tests.rest.conftest import ORDERS, assert_error


async def test_same_key_same_body_replays_the_first_response(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    data = order_input()
    headers = {"Idempotency-Key": "create-1"}
    first = await http.post(ORDERS, json=data, headers=headers, auth=alice.auth)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    after_first = await snapshot(svc)
    assert len(after_first["idempotency_keys"]) == 1
    again = await http.post(ORDERS, json=data, headers=headers, auth=alice.auth)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    # Twilio's header name is the same key; the same parameters as a form are the same request.
    twilio = {"I-Twilio-Idempotency-Token": "create-1"}
    form = {k: str(v) for k, v in data.items()}
    again = await http.post(ORDERS, data=form, headers=twilio, auth=alice.auth)
    assert (again.status_code, again.content) == (201, first.content)
    assert await snapshot(svc) == after_first
    r = await http.get(ORDERS, auth=alice.auth)
    assert [o["sid"] for o in r.json()["orders"]] == [first.json()["sid"]]


async def test_same_key_different_body_is_422(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    headers = {"Idempotency-Key": "k"}
    r = await http.post(ORDERS, json=order_input(), headers=headers, auth=alice.auth)
    assert r.status_code == 201
    before = await snapshot(svc)
    r = await http.post(ORDERS, json=order_input(), headers=headers, auth=alice.auth)
    assert_error(r, 422, 20422)
    r = await http.post(ORDERS, json={"number": "bad"}, headers=headers, auth=alice.auth)
    assert_error(r, 422, 20422)
    assert await snapshot(svc) == before


async def test_failure_inside_the_transaction_keeps_no_key(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    taken = (await http.post(ORDERS, json=order_input(), auth=alice.auth)).json()["number"]
    before = await snapshot(svc)
    headers = {"Idempotency-Key": "late-failure"}
    clash = order_input(number=taken)  # valid input; refused inside the transaction (21837)
    r = await http.post(ORDERS, json=clash, headers=headers, auth=alice.auth)
    assert_error(r, 400, 21837)
    assert await snapshot(svc) == before
    r = await http.post(ORDERS, json=order_input(), headers=headers, auth=alice.auth)
    assert r.status_code == 201, r.text


async def test_ten_concurrent_requests_create_one_order(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    data = order_input()
    headers = {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(http.post(ORDERS, json=data, headers=headers, auth=alice.auth) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1
    rows = await snapshot(svc)
    assert len(rows["port_orders"]) == 1
    assert len(rows["idempotency_keys"]) == 1


@pytest.mark.dialects("sqlite")
async def test_errors_store_nothing_and_keys_are_per_account_and_expire(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    before = await snapshot(svc)
    bad = order_input(email="nope")
    r = await http.post(ORDERS, json=bad, headers=headers, auth=alice.auth)
    assert_error(r, 400, 21818)
    assert await snapshot(svc) == before  # no key row: the corrected request may use the key
    data = order_input()
    r = await http.post(ORDERS, json=data, headers=headers, auth=alice.auth)
    assert r.status_code == 201, r.text

    other = await tenant(svc)
    r2 = await http.post(ORDERS, json=order_input(), headers=headers, auth=other.auth)
    assert r2.status_code == 201 and r2.json()["sid"] != r.json()["sid"]

    real_clock = svc.clock
    svc.clock = lambda: real_clock() + timedelta(hours=24, minutes=1)
    try:
        r3 = await http.post(ORDERS, json=order_input(), headers=headers, auth=alice.auth)
    finally:
        svc.clock = real_clock
    assert r3.status_code == 201, r3.text  # the key expired: a new request, a new order
    assert r3.json()["sid"] != r.json()["sid"]


@pytest.mark.dialects("sqlite")
async def test_bad_keys(http: httpx.AsyncClient, svc: Services, alice: Tenant) -> None:
    before = await snapshot(svc)
    for headers in (
        {"Idempotency-Key": "x" * 256},
        {"Idempotency-Key": " "},
        {"Idempotency-Key": "a", "I-Twilio-Idempotency-Token": "b"},
    ):
        r = await http.post(ORDERS, json=order_input(), headers=headers, auth=alice.auth)
        assert_error(r, 400, 20001)
    assert await snapshot(svc) == before
