"""README's "Limits" example, run as written (a shell and curl) against uvicorn on loopback:
only the address differs, and the credentials come from the environment as the README says."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.services.context import Services
from tests.builders import tenant
from tests.conftest import LiveServer

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT = "http://127.0.0.1:8000"


def limits_example() -> str:
    section = README.read_text().split("\n### Limits\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


async def test_the_rate_limit_example_runs_as_written(
    live_server: LiveServer, svc: Services
) -> None:
    acct = await tenant(svc)
    script = limits_example()
    assert DEFAULT in script
    env = {**os.environ, "ACCOUNT_SID": acct.sid, "AUTH_TOKEN": acct.token}
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-eu",
        "-c",
        script.replace(DEFAULT, live_server.url),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    limit = json.loads(out)["data"]["rateLimit"]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = (start, start + timedelta(hours=1))  # (had the hour turned since the request)
    assert limit["limit"] == 5000 and limit["cost"] == 1 and limit["remaining"] == 4999
    assert limit["resetAt"] in [h.strftime("%Y-%m-%dT%H:%M:%SZ") for h in hours]
