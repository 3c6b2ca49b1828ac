"""GraphQL over HTTP (point 5 of issue 17): the graphql-http audit suite against a real server,
every audit `ok`; and the media types and status codes one by one.

The suite is the npm package `graphql-http` (its `serverAudits`), run by
tests/graphql/http_audit/audit.mjs under Node; the packages are pinned by package-lock.json
and installed with `npm ci` when node_modules is missing."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from app.graphql.app import GRAPHQL_RESPONSE, response_media
from tests.builders import Tenant
from tests.conftest import LiveServer

AUDIT_DIR = Path(__file__).parent / "http_audit"
UNKNOWN_FIELD = "{ 8f31403dfe404bccbb0e835f2629c6a7 }"


@pytest.fixture(scope="session")
def node() -> str:
    exe = shutil.which("node")
    if exe is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required on CI (Node 20)")
        pytest.skip("node/npm not installed")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AUDIT_DIR,
            check=True,
            timeout=300,
        )
    return exe


async def test_every_graphql_http_audit_is_ok(
    node: str, live_server: LiveServer, alice: Tenant
) -> None:
    job = {"url": live_server.url + "/graphql", "authorization": alice.authorization}
    proc = await asyncio.create_subprocess_exec(
        node,
        str(AUDIT_DIR / "audit.mjs"),
        json.dumps(job),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert len(results) > 60  # the whole suite ran (61 audits in graphql-http 1.23)
    not_ok = [r for r in results if r["status"] != "ok"]
    assert not_ok == []


def post(
    http: httpx.AsyncClient, tenant: Tenant, body: object, accept: str | None = None
) -> asyncio.Future[httpx.Response]:
    headers = {"Authorization": tenant.authorization}
    if accept is not None:
        headers["Accept"] = accept
    return asyncio.ensure_future(http.post("/graphql", json=body, headers=headers))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"query": "{"}, 400),  # does not parse
        ({"query": UNKNOWN_FIELD}, 400),  # does not validate
        ({"query": "query ($id: ID!) { __typename }", "variables": {"id": None}}, 400),
        ({"query": "{ __typename }"}, 200),
    ],
)
async def test_graphql_response_json_answers_the_specs_status_codes_and_no_data_on_refusal(
    http: httpx.AsyncClient, alice: Tenant, body: dict[str, object], status: int
) -> None:
    response = await post(http, alice, body, GRAPHQL_RESPONSE)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    payload = response.json()
    if status == 400:
        assert "data" not in payload and payload["errors"]
    else:
        assert payload == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
async def test_application_json_keeps_200_with_errors(
    http: httpx.AsyncClient, alice: Tenant, accept: str | None
) -> None:
    for body in ({"query": "{"}, {"query": UNKNOWN_FIELD}):
        response = await post(http, alice, body, accept)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["errors"]


def test_the_media_type_follows_the_clients_preference() -> None:
    assert response_media(None) == "application/json"
    assert response_media("*/*") == "application/json"
    assert response_media(GRAPHQL_RESPONSE) == GRAPHQL_RESPONSE
    assert response_media(f"{GRAPHQL_RESPONSE}, application/json;q=0.9") == GRAPHQL_RESPONSE
    assert response_media(f"application/json, {GRAPHQL_RESPONSE}") == "application/json"
    assert response_media(f"application/json;q=0.5, {GRAPHQL_RESPONSE}") == GRAPHQL_RESPONSE
    assert response_media(f"{GRAPHQL_RESPONSE};q=0") == "application/json"
