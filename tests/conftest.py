"""Test fixtures: a real database per test, on SQLite and on PostgreSQL.

- SQLite: a migrated template file is copied into the test's tmp_path.
- PostgreSQL: a migrated template database is cloned (CREATE DATABASE ... TEMPLATE) per test
  and dropped afterwards. Server: PORTICO_TEST_POSTGRES_URL
  (default postgresql://postgres@127.0.0.1:5432/test). With CI=true an unreachable server
  fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.config import Settings
from app.services.context import Services
from app.store.migrate import upgrade
from app.wiring import build_services

PG_URL = os.environ.get("PORTICO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEMPLATE = f"portico_tpl_{os.getpid()}"
SECRET = "test-secret-key-0123456789abcdef-0123456789"


def _pg_dsn(database: str | None = None) -> str:
    u = make_url(PG_URL).set(drivername="postgresql")
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_pg_dsn())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is required on CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{TEMPLATE}"'))
    upgrade(_pg_dsn(TEMPLATE))
    yield TEMPLATE
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))


@pytest.fixture
def pg_database(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test; its URL (asyncpg driver)."""
    name = f"portico_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield (
        make_url(_pg_dsn(name))
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False)
    )
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "portico.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both dialects."""
    fixture = "sqlite_database" if request.param == "sqlite" else "pg_database"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        var_dir=tmp_path / "var",
        public_url="http://testserver",
    )


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[Services]:
    services = build_services(settings)
    try:
        yield services
    finally:
        await services.close()
