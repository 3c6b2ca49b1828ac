"""Faster PostgreSQL databases for the service suite.

Cloning a PostgreSQL database per test costs a few hundred milliseconds on a busy machine.
- `pg_database` (overriding tests/conftest.py's for this directory) still gives every test its
  own fresh clone of the migrated template, but a background thread clones the next one while
  the current test runs, and drops used ones in the background.
- `shared_svc`: one database per module and dialect, for tests whose every case checks
  "refused, and every table exactly as before" (a relative snapshot); they need no fresh one.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.config import Settings
from app.services.context import Services
from app.wiring import build_services
from tests.conftest import SECRET, _pg_admin, _pg_dsn


class ClonePool:
    """Clones of the template made one step ahead on one thread; used ones dropped on another
    (a drop waits for every backend of the server to release the files: slow when busy)."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self.dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drops")
        self.next: Future[str] | None = None

    def _create(self) -> str:
        name = f"portico_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    @staticmethod
    def _drop(name: str) -> None:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

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
def pg_clones(pg_template: str) -> Iterator[ClonePool]:
    pool = ClonePool(pg_template)
    yield pool
    pool.close()


@pytest.fixture
def pg_database(pg_clones: ClonePool) -> Iterator[str]:
    name = pg_clones.take()
    yield (
        make_url(_pg_dsn(name))
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False)
    )
    pg_clones.give_back(name)


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
    services = build_services(settings)
    try:
        yield services
    finally:
        await services.close()
