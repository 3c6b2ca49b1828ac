"""The operations tests run in process on SQLite; the live ones start their own servers (the
PostgreSQL one on a private cluster: `private_postgres`)."""

from __future__ import annotations

import pytest

from tests.ops.private_postgres import private_postgres as private_postgres  # the fixture


@pytest.fixture
def database_url(sqlite_database: str) -> str:
    return sqlite_database
