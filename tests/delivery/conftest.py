"""Fixtures for deliveries: fast settings, services with a recording mailbox, a drained queue.
(The receiver on loopback: tests/conftest.py's `receiver`.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.adapters.recording import RecordingEmailSender
from app.config import Settings
from app.runners.worker import DeliveryWorker
from app.services.context import Services
from app.store import queries
from app.wiring import build_services

Mailbox = RecordingEmailSender  # what `mailbox` records: the messages, in order


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
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
async def nsvc(settings: Settings, mailbox: Mailbox) -> AsyncIterator[Services]:
    """Services with the real (pinned) HTTP sender and a recording email sender."""
    s = fast(settings)
    services = build_services(s)
    services.email_sender = mailbox
    try:
        yield services
    finally:
        await services.close()


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
