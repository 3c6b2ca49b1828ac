"""Builders with keyword defaults for test data (valid unless a test says otherwise)."""

from __future__ import annotations

import itertools
from typing import Any

from app.services import accounts
from app.services.context import Caller, Services

_numbers = itertools.count(2000)


def next_number() -> str:
    """A fresh valid US number per call (+1 415 555 2xxx are valid, non-fictional ranges)."""
    return f"+1415555{next(_numbers) % 10000:04d}"


def order_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": next_number(),
        "iso_country": "US",
        "region": "CA",
        "city": "San Francisco",
        "postal_code": "94107",
        "street": "645 Harrison St",
        "first_name": "James",
        "last_name": "Smith",
        "email": "james.smith@example.com",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}


def mobile_input(**overrides: Any) -> dict[str, Any]:
    base = {
        "port_type": "MOBILE",
        "account_number": "ACCT-778899",
        "pin_number": "4321",
        "ssn_last_four": "6789",
    }
    base.update(overrides)
    return order_input(**base)


async def account(svc: Services, parent: Caller | None = None, name: str | None = None) -> Caller:
    """A new account, returned as the Caller that authenticates as it."""
    _, creds = await accounts.create_account(svc, name, parent.sid if parent else None)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return caller


async def operator(svc: Services) -> Caller:
    creds = await accounts.create_operator(svc)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return caller
