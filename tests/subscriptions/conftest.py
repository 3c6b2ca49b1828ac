"""Subscription tests: a real uvicorn on loopback in the test's event loop, real websocket
clients (tests/subscriptions/support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from tests.subscriptions.support import Live, live_server


@pytest.fixture
async def live(app: Starlette) -> AsyncIterator[Live]:
    async with live_server(app) as server:
        yield server
