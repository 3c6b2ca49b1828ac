"""permessage-deflate: off unless PORTICO_WS_PER_MESSAGE_DEFLATE=true (each fan-out message is a
few hundred bytes; deflating it once per socket cost more than the GraphQL work)."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.conftest import SECRET
from tests.subscriptions.support import Replica, replica_env


@pytest.mark.parametrize(("setting", "negotiated"), [(None, False), ("true", True)])
async def test_compression_is_negotiated_only_when_enabled(
    sqlite_database: str, tmp_path: Path, setting: str | None, negotiated: bool
) -> None:
    env = replica_env(sqlite_database, tmp_path / "var", SECRET)
    if setting is not None:
        env["PORTICO_WS_PER_MESSAGE_DEFLATE"] = setting
    replica = Replica(env, tmp_path / "serve.log")
    try:
        await replica.ready()
        # The client offers permessage-deflate (the websockets library does by default).
        async with connect(
            replica.live.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        ) as ws:
            assert ws.response is not None
            answer = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
            assert ("permessage-deflate" in answer) is negotiated
    finally:
        replica.stop()
