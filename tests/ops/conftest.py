"""The operations tests run in process on SQLite; the live ones start their own servers."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(sqlite_database: str) -> str:
    return sqlite_database
