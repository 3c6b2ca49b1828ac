"""Operator and inventory tests over HTTP: the app in process (httpx's ASGI transport) on SQLite
and PostgreSQL, and a real uvicorn on loopback for the sandbox paths (its lifespan runs the
scheduler)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from app.services.context import Services
from tests.delivery.receiver import Receiver
from tests.graphql.support import (
    BOTH_DIALECTS,
    GraphQL,
    Tenant,
    dialect_url,
    operator_tenant,
    tenant,
)
from tests.operators.support import STEP


@pytest.fixture(params=BOTH_DIALECTS)
def database_url(request: pytest.FixtureRequest) -> str:
    return dialect_url(request)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sandbox_step_seconds": STEP})


@pytest.fixture
def app(settings: Settings, svc: Services) -> Starlette:
    # In process without the lifespan: no scheduler, so orders move only when a test moves them.
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


@pytest.fixture
async def op(svc: Services) -> Tenant:
    return await operator_tenant(svc)


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """uvicorn on a free loopback port, in a thread, with its own Services on the test's
    database; its lifespan runs the scheduler at the test's sandbox pace and the delivery
    worker (callbacks may reach loopback; email goes to var/mail/ as .eml files)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    live = Settings.model_validate(
        {
            **settings.model_dump(),
            "public_url": url,
            "callback_allowed_networks": "127.0.0.0/8",  # the receiver is on loopback
            "callback_retry_schedule": "0.05,0.05,0.05",
            "delivery_poll_seconds": 0.05,
        }
    )
    server = uvicorn.Server(uvicorn.Config(create_app(live), lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield url
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


@pytest.fixture
async def live(live_url: str) -> AsyncIterator[GraphQL]:
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
        yield GraphQL(client)
