"""Fixtures for deliveries: fast settings, a loopback receiver, an account with its token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from app.adapters.recording import RecordingEmailSender
from app.config import Settings
from app.runners.worker import DeliveryWorker
from app.services import accounts
from app.services.context import Caller, Services
from app.store import queries
from app.wiring import build_services
from tests.delivery.receiver import Receiver


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite unless a test asks for both dialects (`both_dialects`): the delivery logic is
    the same SQL on both except the queue's claims, which the worker tests run on both."""
    kind = getattr(request, "param", "sqlite")
    return str(request.getfixturevalue("sqlite_database" if kind == "sqlite" else "pg_database"))


both_dialects = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def fast(settings: Settings, **overrides: object) -> Settings:
    """Settings for delivery tests: loopback allowed, quick retries, quick polling."""
    values: dict[str, object] = {
        "callback_allowed_networks": "127.0.0.0/8",
        "callback_retry_schedule": "0.05,0.05,0.05",
        "callback_timeout_seconds": 5.0,
        "delivery_poll_seconds": 0.05,
    }
    values.update(overrides)
    return Settings.model_validate({**settings.model_dump(), **values})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def mailbox() -> RecordingEmailSender:
    return RecordingEmailSender()


@pytest.fixture
async def nsvc(settings: Settings, mailbox: RecordingEmailSender) -> AsyncIterator[Services]:
    """Services with the real (pinned) HTTP sender and a recording email sender."""
    s = fast(settings)
    services = build_services(s)
    services.email_sender = mailbox
    try:
        yield services
    finally:
        await services.close()


@dataclass(frozen=True)
class Owner:
    caller: Caller
    auth_token: str


async def owner(svc: Services) -> Owner:
    _, creds = await accounts.create_account(svc)
    caller = await accounts.authenticate(svc, creds.sid, creds.secret)
    assert caller is not None
    return Owner(caller, creds.secret)


async def pending_count(svc: Services) -> int:
    async with svc.db.read() as s:
        return await queries.count_deliveries(s, state="pending")


async def drain(svc: Services, worker: DeliveryWorker | None = None, rounds: int = 400) -> int:
    """Run a worker until no delivery is pending (retries included); the rounds done."""
    worker = worker or DeliveryWorker(svc, name="test")
    for n in range(rounds):
        claimed = await worker.run_once()
        if await pending_count(svc) == 0:
            return n + 1
        if claimed == 0:
            await asyncio.sleep(0.02)
    raise AssertionError("deliveries still pending")
