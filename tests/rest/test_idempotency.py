"""Idempotent creates (issue point 7), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from app.services.context import Services
from tests.builders import order_input
from tests.rest.conftest import ORDERS, Account, assert_error, counts, new_account, sqlite_only


async def test_same_key_same_body_replays_the_first_response(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    data = order_input()
    headers = {"Idempotency-Key": "create-1"}
    first = await client.post(ORDERS, json=data, headers=headers, auth=account.auth)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    after_first = await counts(svc)
    assert after_first["idempotency_keys"] == 1
    again = await client.post(ORDERS, json=data, headers=headers, auth=account.auth)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    # Twilio's header name is the same key; the same parameters as a form are the same request.
    twilio = {"I-Twilio-Idempotency-Token": "create-1"}
    form = {k: str(v) for k, v in data.items()}
    again = await client.post(ORDERS, data=form, headers=twilio, auth=account.auth)
    assert (again.status_code, again.content) == (201, first.content)
    assert await counts(svc) == after_first
    r = await client.get(ORDERS, auth=account.auth)
    assert [o["sid"] for o in r.json()["orders"]] == [first.json()["sid"]]


async def test_same_key_different_body_is_422(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    headers = {"Idempotency-Key": "k"}
    r = await client.post(ORDERS, json=order_input(), headers=headers, auth=account.auth)
    assert r.status_code == 201
    before = await counts(svc)
    r = await client.post(ORDERS, json=order_input(), headers=headers, auth=account.auth)
    assert_error(r, 422, 20422)
    r = await client.post(ORDERS, json={"number": "bad"}, headers=headers, auth=account.auth)
    assert_error(r, 422, 20422)
    assert await counts(svc) == before


async def test_failure_inside_the_transaction_keeps_no_key(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    taken = (await client.post(ORDERS, json=order_input(), auth=account.auth)).json()["number"]
    before = await counts(svc)
    headers = {"Idempotency-Key": "late-failure"}
    clash = order_input(number=taken)  # valid input; refused inside the transaction (21837)
    r = await client.post(ORDERS, json=clash, headers=headers, auth=account.auth)
    assert_error(r, 400, 21837)
    assert await counts(svc) == before
    r = await client.post(ORDERS, json=order_input(), headers=headers, auth=account.auth)
    assert r.status_code == 201, r.text


async def test_ten_concurrent_requests_create_one_order(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    data = order_input()
    headers = {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(client.post(ORDERS, json=data, headers=headers, auth=account.auth) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1
    rows = await counts(svc)
    assert rows["port_orders"] == 1
    assert rows["idempotency_keys"] == 1


@sqlite_only
async def test_errors_store_nothing_and_keys_are_per_account_and_expire(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    before = await counts(svc)
    bad = order_input(email="nope")
    r = await client.post(ORDERS, json=bad, headers=headers, auth=account.auth)
    assert_error(r, 400, 21818)
    assert await counts(svc) == before  # no key row: the corrected request may use the key
    data = order_input()
    r = await client.post(ORDERS, json=data, headers=headers, auth=account.auth)
    assert r.status_code == 201, r.text

    other = await new_account(svc)
    r2 = await client.post(ORDERS, json=order_input(), headers=headers, auth=other.auth)
    assert r2.status_code == 201 and r2.json()["sid"] != r.json()["sid"]

    real_clock = svc.clock
    svc.clock = lambda: real_clock() + timedelta(hours=24, minutes=1)
    try:
        r3 = await client.post(ORDERS, json=order_input(), headers=headers, auth=account.auth)
    finally:
        svc.clock = real_clock
    assert r3.status_code == 201, r3.text  # the key expired: a new request, a new order
    assert r3.json()["sid"] != r.json()["sid"]


@sqlite_only
async def test_bad_keys(client: httpx.AsyncClient, svc: Services, account: Account) -> None:
    before = await counts(svc)
    for headers in (
        {"Idempotency-Key": "x" * 256},
        {"Idempotency-Key": " "},
        {"Idempotency-Key": "a", "I-Twilio-Idempotency-Token": "b"},
    ):
        r = await client.post(ORDERS, json=order_input(), headers=headers, auth=account.auth)
        assert_error(r, 400, 20001)
    assert await counts(svc) == before
