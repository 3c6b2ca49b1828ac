"""The README's examples of "The workflow around an order", run as written (a shell, curl,
python3 and pdftotext) against uvicorn on loopback: only the address differs, and the
credentials come from the environment as the README says."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.services.context import Services
from tests.builders import operator_tenant, tenant
from tests.conftest import LiveServer

pytestmark = pytest.mark.dialects("sqlite")

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT = "http://127.0.0.1:8000"


def workflow_examples() -> str:
    section = README.read_text().split("\n## The workflow around an order\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def documents(text: str) -> tuple[list[Any], str]:
    """The JSON documents curl printed one after the other, and the text after them."""
    decoder = json.JSONDecoder()
    out, at = [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        try:
            doc, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            break
        out.append(doc)
    return out, text[at:]


async def test_the_examples_run_as_written(
    live_server: LiveServer, svc: Services, tmp_path: Path
) -> None:
    acct, op = await tenant(svc), await operator_tenant(svc)
    script = workflow_examples()
    assert DEFAULT in script
    env = {
        **os.environ,
        "ACCOUNT_SID": acct.sid,
        "AUTH_TOKEN": acct.token,
        "OPERATOR_SID": op.sid,
        "OPERATOR_TOKEN": op.token,
    }
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-eu",
        "-c",
        script.replace(DEFAULT, live_server.url),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    (mine, theirs, thread, windows, listed), text = documents(out.decode())
    assert (mine["author_type"], theirs["author_type"]) == ("customer", "operator")
    assert [c["body"] for c in thread["comments"]] == [
        "Our latest bill is attached.",
        "Thanks, we have it.",
    ]
    assert windows["activation_windows"] and len(windows["activation_windows"]) <= 31
    (doc,) = listed["documents"]
    assert (doc["document_type"], doc["content_type"]) == ("utility_bill", "application/pdf")
    original, copy = (tmp_path / "bill.pdf").read_bytes(), (tmp_path / "bill-copy.pdf").read_bytes()
    assert copy == original and hashlib.sha256(copy).hexdigest() == doc["sha256"]
    assert (tmp_path / "loa.pdf").read_bytes().startswith(b"%PDF-")
    assert "Letter of Authorization" in text


def test_the_graphql_examples_are_valid_against_the_schema() -> None:
    from graphql import parse, validate

    from app.config import Settings
    from app.graphql.schema import build_schema

    section = README.read_text().split("\n## The workflow around an order\n", 1)[1]
    block = section.split("```graphql\n", 1)[1].split("```", 1)[0]
    operations, current = [], ""
    for line in block.splitlines(keepends=True):
        if line.startswith(("mutation", "query", "subscription")) and current:
            operations.append(current)
            current = ""
        current += line
    operations.append(current)
    assert len(operations) == 3
    schema = build_schema(Settings())._schema
    for text in operations:
        assert validate(schema, parse(text)) == [], text
