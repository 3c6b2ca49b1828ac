"""The README's "Frontend access" example, run as written (a shell, the `portico` command, curl
and python3) against uvicorn on loopback: only the address differs (the server's port); the
credentials come from the environment as the README says, and the command reaches the
server's database through the PORTICO_* settings."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from app.services import port_orders
from app.services.context import Services
from tests.builders import order_input, tenant
from tests.conftest import LiveServer
from tests.rest.test_readme_examples import DEFAULT, documents

pytestmark = pytest.mark.dialects("sqlite")
ROOT = Path(__file__).resolve().parents[2]


def frontend_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Frontend access\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


async def test_the_frontend_example_runs_as_written(live_server: LiveServer, svc: Services) -> None:
    acct = await tenant(svc)
    await port_orders.create_port_order(svc, acct.caller, order_input())
    script = frontend_example()
    assert DEFAULT in script
    settings = live_server.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")},
        "ACCOUNT_SID": acct.sid,
        "AUTH_TOKEN": acct.token,
        "PORTICO_DATABASE_URL": settings.database_url,
        "PORTICO_SECRET_KEY": settings.resolved_secret_key,
        "PORTICO_VAR_DIR": str(settings.var_dir),
    }
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-eu",
        "-c",
        script.replace(DEFAULT, live_server.url),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):  # a safety net against a hang, not a timing assertion
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lines = out.decode()
    revoked = re.compile(r"SK[0-9a-f]{32} revoked\n")
    assert len(revoked.findall(lines)) == 1  # the command's own line
    listed, counted, refused = documents(revoked.sub("", lines))
    orders: list[dict[str, Any]] = listed["orders"]
    assert [o["account_sid"] for o in orders] == [acct.sid]
    assert counted == {"data": {"portOrders": {"totalCount": 1}}}
    assert refused["code"] == 20003
    assert acct.token not in lines and json.dumps(acct.token) not in err.decode()
