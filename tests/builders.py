"""Builders with keyword defaults for test data (valid unless a test says otherwise), and the
accounts a test acts as: `tenant` (an account with its credentials), `account` (its Caller)."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from typing import Any

from app.services import accounts
from app.services.context import Caller, Services
from app.services.loas import Signature

_numbers = itertools.count(2000)


def next_number() -> str:
    """A fresh valid US number per call (+1 415 555 2xxx are valid, non-fictional ranges)."""
    return f"+1415555{next(_numbers) % 10000:04d}"


def order_input(**overrides: Any) -> dict[str, Any]:
    """A valid create input (a new number each call); an override of `...` leaves the key out."""
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


_bulk = itertools.count()
_AREAS = ("212", "646", "312", "617", "206", "303")


def numbers(n: int) -> list[str]:
    """`n` distinct valid US numbers, never ending in a sandbox digit pattern (0001-0004)."""
    out = []
    for _ in range(n):
        k = next(_bulk)
        out.append(f"+1{_AREAS[(k // 8000) % len(_AREAS)]}555{2000 + k % 8000:04d}")
    return out


def request_input(entries: list[Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid Port Request create: the shared values of `order_input` and `entries` as its
    numbers (default: three fresh numbers); an override of `...` leaves the key out."""
    data: dict[str, Any] = {k: v for k, v in order_input().items() if k != "number"}
    data["numbers"] = numbers(3) if entries is None else entries
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


def camel(raw: dict[str, Any]) -> dict[str, Any]:
    """An input's keys as GraphQL names (`postal_code` -> `postalCode`)."""

    def name(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(part.title() for part in rest)

    return {name(k): v for k, v in raw.items()}


def signature(**overrides: Any) -> Signature:
    """What a signer sends when signing an LOA."""
    values: dict[str, Any] = {
        "signer_name": "James Smith",
        "ip": "127.0.0.1",
        "user_agent": "pytest",
        "text_sha256": "0" * 64,
    }
    values.update(overrides)
    return Signature(**values)


def basic(sid: str, secret: str) -> str:
    """An HTTP Basic Authorization header."""
    return "Basic " + base64.b64encode(f"{sid}:{secret}".encode()).decode()


@dataclass(frozen=True)
class Tenant:
    """An account (or an operator) and its credentials."""

    caller: Caller
    token: str

    @property
    def sid(self) -> str:
        return self.caller.sid

    @property
    def auth(self) -> tuple[str, str]:
        """For httpx's `auth=`."""
        return (self.sid, self.token)

    @property
    def authorization(self) -> str:
        """The Authorization header."""
        return basic(self.sid, self.token)


async def tenant(
    svc: Services, parent: Tenant | Caller | None = None, name: str | None = None
) -> Tenant:
    """A new account (a subaccount of `parent` when given) with its credentials."""
    _, creds = await accounts.create_account(svc, name, parent.sid if parent else None)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return Tenant(caller, creds.secret)


async def operator_tenant(svc: Services) -> Tenant:
    creds = await accounts.create_operator(svc)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return Tenant(caller, creds.secret)


async def account(
    svc: Services, parent: Tenant | Caller | None = None, name: str | None = None
) -> Caller:
    """A new account, as the Caller that authenticates as it."""
    return (await tenant(svc, parent, name)).caller


async def operator(svc: Services) -> Caller:
    return (await operator_tenant(svc)).caller


def foc(days: int, time: str = "10:00:00", zone: str = "Z") -> str:
    """A requested activation date `days` or more from today (UTC) that no rule moves: the
    first business day of the builders' service address (US-CA) from then, at `time` in `zone`
    (a zone that keeps the UTC date the same). At most 30 days out (app/porting/windows.py)."""
    from datetime import UTC, datetime, timedelta

    from app.porting.dates import is_business_day

    day = datetime.now(UTC).date() + timedelta(days=days)
    while not is_business_day(day, "US", "CA"):
        day += timedelta(days=1)
    return f"{day.isoformat()}T{time}{zone}"


def as_utc(value: str) -> str:
    """An ISO 8601 date-time with a zone, as the API writes it (UTC, `Z`)."""
    from datetime import UTC, datetime

    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
