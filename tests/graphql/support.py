"""Helpers for the GraphQL tests: tenants with credentials, a GraphQL client, SQL counting."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.services import accounts
from app.services.context import Caller, Services
from app.store import queries
from app.store.queries import LoaFilter, PortOrderFilter

# Modules whose behaviour depends on the database run on both dialects: they override the
# package's SQLite-only `database_url` fixture with this one.
BOTH_DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def dialect_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_database" if request.param == "sqlite" else "pg_database"
    return str(request.getfixturevalue(fixture))


def basic(sid: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{sid}:{secret}".encode()).decode()


@dataclass(frozen=True)
class Tenant:
    caller: Caller
    authorization: str

    @property
    def sid(self) -> str:
        return self.caller.sid


async def tenant(svc: Services, parent: Tenant | None = None) -> Tenant:
    """A new account (a subaccount of `parent` when given) with its Basic credentials."""
    _, creds = await accounts.create_account(svc, None, parent.sid if parent else None)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return Tenant(caller, basic(creds.sid, creds.secret))


async def operator_tenant(svc: Services) -> Tenant:
    creds = await accounts.create_operator(svc)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return Tenant(caller, basic(creds.sid, creds.secret))


@dataclass
class GraphQL:
    """POSTs documents to /graphql as a tenant."""

    http: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: Tenant | None = None
    ) -> httpx.Response:
        headers = {"Authorization": as_.authorization} if as_ else {}
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.http.post("/graphql", json=body, headers=headers)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: Tenant
    ) -> dict[str, Any]:
        """The `data` of a successful response (fails the test on any error)."""
        response = await self.post(query, variables, as_=as_)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def errors(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: Tenant
    ) -> list[dict[str, Any]]:
        response = await self.post(query, variables, as_=as_)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors"), body
        return body["errors"]


_NOT_COUNTED = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)\b", re.I)


class Statements:
    """Counts the SQL statements sent to the database (transaction control left out)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not _NOT_COUNTED.match(statement):
            self.seen.append(statement)

    @property
    def count(self) -> int:
        return len(self.seen)


@contextmanager
def counting(svc: Services) -> Iterator[Statements]:
    counter = Statements()
    engines = {id(e): e for e in (svc.db.read_engine, svc.db.write_engine)}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", counter)


@dataclass(frozen=True)
class Snapshot:
    orders: int
    loas: int
    last_event: int


async def snapshot(svc: Services) -> Snapshot:
    """What is stored, to show that a refused request changed nothing."""
    async with svc.db.read() as s:
        return Snapshot(
            await queries.count_port_orders(s, None, PortOrderFilter()),
            await queries.count_loas(s, None, LoaFilter()),
            await queries.last_event_id(s),
        )
