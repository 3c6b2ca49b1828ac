"""Shared fixtures: a fresh, migrated database per test on each dialect it runs on; the app and
its clients; tenants; a live server; and the one whole-database snapshot.

Dialects, the one switch (`pytest_generate_tests` below): a test that uses the database
(`database_url`, or anything built on it: `settings`, `svc`, `app`, `alice`...) runs
- on the dialects named by its closest `@pytest.mark.dialects(...)` (a test's, its class's or its
  module's `pytestmark`), its ids naming the dialect (`test_x[postgres]`);
- otherwise on SQLite and PostgreSQL, except in the packages of SQLITE_ALONE, which run on SQLite
  alone (no id) unless they ask for more: their SQL is the same on both dialects.

- SQLite: a migrated template file is copied into the test's tmp_path.
- PostgreSQL: a migrated template database is cloned (CREATE DATABASE ... TEMPLATE) per test,
  one clone ahead, and dropped in the background afterwards. Server: PORTICO_TEST_POSTGRES_URL
  (default postgresql://postgres@127.0.0.1:5432/test). Unreachable, its tests are skipped; with
  CI=true that fails the run instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from app.services.context import Services
from app.store import tables  # noqa: F401 -- registers every table on the metadata (snapshot)
from app.store.migrate import upgrade
from app.wiring import build_services
from tests.builders import Tenant, operator_tenant, tenant
from tests.delivery.receiver import Receiver

PG_URL = os.environ.get("PORTICO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEMPLATE = f"portico_tpl_{os.getpid()}"
SECRET = "test-secret-key-0123456789abcdef-0123456789"
TESTS = Path(__file__).parent

# --- the dialect switch ---------------------------------------------------------------------

DIALECTS = ("sqlite", "postgres")
# Packages (under tests/) whose tests run on SQLite alone unless they ask for more: the GraphQL
# layer, subscriptions, deliveries and the signing page send the same SQL on both dialects
# (the queue's claims differ: the worker tests ask for both).
SQLITE_ALONE = {"graphql", "subscriptions", "delivery", "web"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dialects(*names): run on these dialects ('sqlite', 'postgres'), overriding the default",
    )


def dialects_of(definition: pytest.Function) -> tuple[str, ...] | None:
    """The dialects a test asked for, or its package's default; None: SQLite, not in the id."""
    marker = definition.get_closest_marker("dialects")
    if marker is not None:
        unknown = set(marker.args) - set(DIALECTS)
        assert marker.args and not unknown, f"dialects{marker.args}: one or more of {DIALECTS}"
        return tuple(marker.args)
    if definition.path.relative_to(TESTS).parts[0] in SQLITE_ALONE:
        return None
    return DIALECTS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    wanted = [n for n in ("database_url", "shared_database_url") if n in metafunc.fixturenames]
    if not wanted:
        return
    assert len(wanted) == 1, f"{metafunc.definition.nodeid}: a fresh database or the shared one"
    names = dialects_of(metafunc.definition)
    if names is None:
        return
    params = [
        pytest.param(n, marks=[pytest.mark.postgres] if n == "postgres" else [], id=n)
        for n in names
    ]
    # indirect: in the fixture's own scope (a module's for the shared database)
    metafunc.parametrize(wanted[0], params, indirect=True)


def _dialect(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


# --- databases ------------------------------------------------------------------------------


def pg_dsn(database: str | None = None) -> str:
    """The server's URL (plain libpq form), on `database` when given."""
    u = make_url(PG_URL).set(drivername="postgresql")
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def pg_async_url(database: str) -> str:
    """A database's URL for the app (asyncpg driver)."""
    return make_url(pg_dsn(database)).set(drivername="postgresql+asyncpg").render_as_string(False)


async def pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(pg_dsn())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class ClonePool:
    """Clones of the template made one step ahead on one thread; used ones dropped on another
    (a drop waits for every backend of the server to release the files: slow when busy).
    Cloning costs a few hundred milliseconds on a busy machine: made ahead, while a test runs."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self.dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drops")
        self.next: Future[str] | None = None

    def _create(self) -> str:
        name = f"portico_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    @staticmethod
    def _drop(name: str) -> None:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def take(self) -> str:
        ahead = self.next or self.worker.submit(self._create)
        name = ahead.result()
        self.next = self.worker.submit(self._create)
        return name

    def give_back(self, name: str) -> None:
        self.dropper.submit(self._drop, name)

    def close(self) -> None:
        if self.next is not None:
            self.dropper.submit(self._drop, self.next.result())
        self.worker.shutdown(wait=True)
        self.dropper.shutdown(wait=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        asyncio.run(pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is required on CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
    asyncio.run(pg_admin(f'CREATE DATABASE "{TEMPLATE}"'))
    upgrade(pg_dsn(TEMPLATE))
    yield TEMPLATE
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_clones(pg_template: str) -> Iterator[ClonePool]:
    pool = ClonePool(pg_template)
    yield pool
    pool.close()


@pytest.fixture
def pg_database(pg_clones: ClonePool) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test; its URL (asyncpg driver)."""
    name = pg_clones.take()
    yield pg_async_url(name)
    pg_clones.give_back(name)


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for one test; its URL."""
    path = tmp_path / "portico.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The test's own fresh database, on the dialect the switch gave it."""
    fixture = "sqlite_database" if _dialect(request) == "sqlite" else "pg_database"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="module")
def shared_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per module and dialect, for tests whose every case checks "refused, and
    every table exactly as before" (a relative snapshot): they need no fresh one."""
    if _dialect(request) == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("shared") / "portico.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    clones: ClonePool = request.getfixturevalue("pg_clones")
    name = clones.take()
    yield pg_async_url(name)
    clones.give_back(name)


def settings_for(database_url: str, var_dir: Path) -> Settings:
    """Settings on a test database (the public URL the in-process clients use). Verified
    credentials are not remembered (PORTICO_AUTH_CACHE_SECONDS=0): every request's SQL
    statements include its authentication; tests/access turns the cache on where it tests it."""
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        var_dir=var_dir,
        public_url="http://testserver",
        auth_cache_seconds=0,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path / "var")


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[Services]:
    services = build_services(settings)
    try:
        yield services
    finally:
        await services.close()


@pytest.fixture
async def shared_svc(shared_database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    services = build_services(settings_for(shared_database_url, tmp_path / "var"))
    try:
        yield services
    finally:
        await services.close()


# --- what is stored -------------------------------------------------------------------------

Snapshot = dict[str, list[tuple[Any, ...]]]
# Bookkeeping, not what a request stores: the points each account spent this hour (every
# request counts, refused or not; tests/graphql/test_cost.py checks them).
NOT_IN_SNAPSHOT = frozenset({"rate_limit_windows"})


async def snapshot(svc: Services) -> Snapshot:
    """Every row of every table (the table's name: its rows in primary-key order), so two
    snapshots compare equal exactly when no row was added, removed or changed: to prove that a
    refused request stored nothing. Tests may read tables directly; the application may not
    (app/store/queries.py)."""
    out: Snapshot = {}
    async with svc.db.read() as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in NOT_IN_SNAPSHOT:
                continue
            order = list(table.primary_key.columns)
            rows = (await s.execute(select(table).order_by(*order))).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


# --- the app and its clients ----------------------------------------------------------------


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
        data: dict[str, Any] = body["data"]
        return data

    async def errors(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: Tenant
    ) -> list[dict[str, Any]]:
        response = await self.post(query, variables, as_=as_)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors"), body
        errors: list[dict[str, Any]] = body["errors"]
        return errors


@pytest.fixture
def app(settings: Settings, svc: Services) -> Starlette:
    # In process without the lifespan: no scheduler and no delivery worker, so orders move
    # only when a test moves them.
    return create_app(settings, svc)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app over HTTP, in process (httpx's ASGI transport)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQL:
    return GraphQL(http)


@pytest.fixture
async def alice(svc: Services) -> Tenant:
    return await tenant(svc)


@pytest.fixture
async def bob(svc: Services) -> Tenant:
    return await tenant(svc)


@pytest.fixture
async def op(svc: Services) -> Tenant:
    return await operator_tenant(svc)


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """The settings `live_server` runs with (its public URL aside); a package may override it."""
    return settings


@pytest.fixture
def live_server(live_settings: Settings) -> Iterator[LiveServer]:
    """uvicorn on a free loopback port, in a thread, with its own Services on the test's
    database; its lifespan runs the scheduler and the delivery worker."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    live = live_settings.model_copy(update={"public_url": url})
    config = uvicorn.Config(create_app(live), lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url, live)
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Status callbacks arrive here (a real HTTP server on loopback)."""
    r = Receiver().start()
    yield r
    r.stop()
