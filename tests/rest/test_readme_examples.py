"""The README's Port Request examples, run as written (a shell, curl and python3) against
uvicorn on loopback: only the address differs (the server's port), and the credentials come
from the environment as the README says."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.services.context import Services
from tests.builders import tenant
from tests.conftest import LiveServer

pytestmark = pytest.mark.dialects("sqlite")

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT = "http://127.0.0.1:8000"


def port_request_examples() -> str:
    section = README.read_text().split("\n## Port requests\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def documents(text: str) -> list[Any]:
    """The JSON documents curl printed one after the other."""
    decoder = json.JSONDecoder()
    out, at = [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        doc, at = decoder.raw_decode(text, at)
        out.append(doc)
    return out


async def test_the_examples_run_as_written(live_server: LiveServer, svc: Services) -> None:
    acct = await tenant(svc)
    script = port_request_examples()
    assert DEFAULT in script
    env = {**os.environ, "ACCOUNT_SID": acct.sid, "AUTH_TOKEN": acct.token}
    for _ in range(2):  # the DELETE at the end frees the numbers: they run again
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
        fetched, orders, listed, checked, canceled = documents(out.decode())
        assert [(n["status"], [e["code"] for e in n["errors"]]) for n in fetched["numbers"]] == [
            ("PENDING", []),
            ("PENDING", []),
            (None, [21827]),
        ]
        assert len(orders["orders"]) == 2
        assert fetched["sid"] in [r["sid"] for r in listed["port_requests"]]
        assert [r["portable"] for r in checked["results"]] == [True, False]
        assert canceled["status"] == "CANCELED"
