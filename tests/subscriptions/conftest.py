"""Subscription tests: real uvicorn on loopback, real websocket clients. SQLite unless a module
asks for both dialects (tests.graphql.support.BOTH_DIALECTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from app.services.context import Services
from tests.graphql.support import Tenant, tenant
from tests.subscriptions.support import Live, live_server


@pytest.fixture
def database_url(sqlite_database: str) -> str:
    return sqlite_database


@pytest.fixture
def app(settings: Settings, svc: Services) -> Starlette:
    return create_app(settings, svc)


@pytest.fixture
async def live(app: Starlette) -> AsyncIterator[Live]:
    async with live_server(app) as server:
        yield server


@pytest.fixture
async def alice(svc: Services) -> Tenant:
    return await tenant(svc)


@pytest.fixture
async def bob(svc: Services) -> Tenant:
    return await tenant(svc)
