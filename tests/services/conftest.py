"""`shared_svc`: one database per module and dialect, for tests that only prove refusals.

Cloning a PostgreSQL database per test costs a few hundred milliseconds on a busy machine. Tests
whose every case checks "refused, and every table exactly as before" (a relative snapshot) do
not need a fresh database per case, so they share one per module; every other test uses `svc`.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.config import Settings
from app.services.context import Services
from tests.conftest import SECRET, _pg_admin, _pg_dsn


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("shared") / "portico.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    pg_template: str = request.getfixturevalue("pg_template")
    name = f"portico_s_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield (
        make_url(_pg_dsn(name))
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False)
    )
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def shared_svc(shared_database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(
        database_url=shared_database_url,
        secret_key=SECRET,
        var_dir=tmp_path / "var",
        public_url="http://testserver",
    )
    services = Services.from_settings(settings)
    try:
        yield services
    finally:
        await services.close()
