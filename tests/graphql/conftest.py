"""GraphQL tests: the app over HTTP (httpx's ASGI transport), SQLite unless a module asks for
both dialects (support.BOTH_DIALECTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from app.services.context import Services
from tests.graphql.support import GraphQL, Tenant, tenant


@pytest.fixture
def database_url(sqlite_database: str) -> str:
    return sqlite_database


@pytest.fixture
def app(settings: Settings, svc: Services) -> Starlette:
    return create_app(settings, svc)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
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
