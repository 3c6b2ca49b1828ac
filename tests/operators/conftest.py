"""Operator and inventory tests over HTTP: the app in process (tests/conftest.py's `gql`) and a
real uvicorn on loopback for the sandbox paths (`live`: its lifespan runs the scheduler at the
test's sandbox pace and the delivery worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from tests.conftest import GraphQL, LiveServer
from tests.operators.support import STEP


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sandbox_step_seconds": STEP})


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """Callbacks may reach the loopback receiver, quickly retried; email goes to var/mail/ as
    .eml files."""
    return Settings.model_validate(
        {
            **settings.model_dump(),
            "callback_allowed_networks": "127.0.0.0/8",
            "callback_retry_schedule": "0.05,0.05,0.05",
            "delivery_poll_seconds": 0.05,
        }
    )


@pytest.fixture
async def live(live_server: LiveServer) -> AsyncIterator[GraphQL]:
    # a generous timeout: these tests check behaviour, not speed (the machine is shared)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        yield GraphQL(client)
