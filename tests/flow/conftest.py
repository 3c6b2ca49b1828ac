"""The workflow around an order (issue 13): comments, documents, the LOA PDF, FOC windows,
exceptions. The app in process (`http`, `gql`) or a real uvicorn on loopback (`live`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from tests.subscriptions.support import Live, live_server


@pytest.fixture
async def live(app: Starlette) -> AsyncIterator[Live]:
    async with live_server(app) as server:
        yield server
