"""REST test fixtures: an in-process client (httpx ASGITransport) and a real uvicorn server on
loopback, both on the test's own database (tests/conftest.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select, update

from app.config import Settings
from app.main import create_app
from app.services import accounts
from app.services.context import Caller, Services
from app.store.tables import (
    Event,
    IdempotencyKey,
    IncomingPhoneNumber,
    Loa,
    PortOrder,
    PortOrderError,
)

# Module-level marker for tests whose dialect does not matter.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ORDERS = "/porting/PortOrders"
LOAS = "/porting/Loas"


@dataclass(frozen=True)
class Account:
    sid: str
    token: str
    caller: Caller

    @property
    def auth(self) -> tuple[str, str]:
        return (self.sid, self.token)


async def new_account(svc: Services, parent: Account | None = None) -> Account:
    _, creds = await accounts.create_account(svc, None, parent.sid if parent else None)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return Account(creds.sid, creds.secret, caller)


async def counts(svc: Services) -> dict[str, int]:
    """Rows per table: an error must leave every count as it was."""
    out: dict[str, int] = {}
    async with svc.db.read() as s:
        for model in (PortOrder, Loa, Event, PortOrderError, IdempotencyKey, IncomingPhoneNumber):
            stmt = select(func.count()).select_from(model)
            out[model.__tablename__] = int((await s.execute(stmt)).scalar_one())
    return out


async def set_columns(svc: Services, sid: str, **values: Any) -> None:
    """Test setup for columns only operators write (provider_sid, zendesk_id, ...)."""
    async with svc.transaction() as tx:
        await tx.execute(update(PortOrder).where(PortOrder.sid == sid).values(**values))


def assert_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.fixture
async def client(settings: Settings, svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, svc)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def account(svc: Services) -> Account:
    return await new_account(svc)


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """uvicorn on a free loopback port, in a thread, with its own Services on the test's DB."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    live = settings.model_copy(update={"public_url": url})
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
