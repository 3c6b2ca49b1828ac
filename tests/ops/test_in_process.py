"""The operations endpoints and their guards in process (httpx's ASGI transport, SQLite): who
may scrape /metrics, what /readyz says when a check fails, and the bounds on labels and log
lines (route templates, operation names, request ids, masking, the cost estimate)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from graphql import parse
from starlette.applications import Starlette

from app.config import Settings
from app.graphql.cost import estimate
from app.graphql.schema import build_schema
from app.main import create_app
from app.observability import logs, metrics
from app.observability.asgi import route_template
from app.ops.probes import CHECK_TIMEOUT
from app.services.context import Services
from app.store.migrate import upgrade
from app.wiring import build_services
from tests.conftest import SECRET

LOOPBACK = ("127.0.0.1", 50000)
ELSEWHERE = ("203.0.113.7", 50000)


def client(app: Starlette, peer: tuple[str, int]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=peer)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def scrape(app: Starlette, peer: tuple[str, int], **headers: str) -> httpx.Response:
    async with client(app, peer) as http:
        return await http.get("/metrics", headers=headers)


async def test_metrics_answer_loopback_peers_only_without_a_token(
    settings: Settings, svc: Services
) -> None:
    app = create_app(settings, svc)
    assert (await scrape(app, LOOPBACK)).status_code == 200
    assert (await scrape(app, ("::1", 50000))).status_code == 200
    assert (await scrape(app, ELSEWHERE)).status_code == 403
    # The peer address decides, never a header a client (or a proxy) sets.
    forwarded = await scrape(app, ELSEWHERE, **{"X-Forwarded-For": "127.0.0.1"})
    assert forwarded.status_code == 403
    assert (await scrape(app, ELSEWHERE, **{"X-Real-Ip": "127.0.0.1"})).status_code == 403


async def test_with_a_token_every_scrape_needs_it(settings: Settings, svc: Services) -> None:
    token = "metrics-token-0123456789abcdef"
    app = create_app(settings.model_copy(update={"metrics_token": token}), svc)
    ok = await scrape(app, ELSEWHERE, Authorization=f"Bearer {token}")
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "portico_queue_backlog" in ok.text
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
        for peer in (ELSEWHERE, LOOPBACK):
            refused = await scrape(app, peer, **headers)
            assert refused.status_code == 401, (headers, peer)
            assert refused.headers["www-authenticate"].startswith("Bearer")


async def test_readyz_is_ready_on_a_migrated_database(settings: Settings, svc: Services) -> None:
    async with client(create_app(settings, svc), LOOPBACK) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "bus": "ok"},
    }


async def test_readyz_names_a_database_behind_the_migrations(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0001")
    svc = build_services(Settings(database_url=url, secret_key=SECRET, var_dir=tmp_path))
    try:
        async with client(create_app(svc.settings, svc), LOOPBACK) as http:
            answer = await http.get("/readyz")
    finally:
        await svc.close()
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert re.fullmatch(r"at 0001; head is \S+", checks["migrations"]), checks


async def test_readyz_names_a_bus_that_is_not_listening(settings: Settings, svc: Services) -> None:
    class Deaf(type(svc.bus)):  # type: ignore[misc]
        listening = False

    svc.bus.__class__ = Deaf
    async with client(create_app(settings, svc), LOOPBACK) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["bus"].startswith("not listening")


async def test_readyz_and_healthz_answer_503_when_the_database_is_unreachable(
    tmp_path: Path,
) -> None:
    # The "database file" is a directory: every connection fails at once.
    url = f"sqlite+aiosqlite:///{tmp_path}"
    svc = build_services(Settings(database_url=url, secret_key=SECRET, var_dir=tmp_path))
    try:
        async with client(create_app(svc.settings, svc), LOOPBACK) as http:
            ready = await http.get("/readyz")
            health = await http.get("/healthz")
            scraped = await http.get("/metrics")
    finally:
        await svc.close()
    assert ready.status_code == 503 and health.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"].startswith("unreachable: ")
    assert checks["migrations"].startswith("unknown: ")
    assert scraped.status_code == 200
    assert "portico_database_up 0.0" in scraped.text
    assert "portico_queue_backlog" not in scraped.text
    assert CHECK_TIMEOUT <= 2


ROUTES_SEEN = [
    ("GET", "/porting/PortOrders/PO0123456789abcdef0123456789abcdef", "/porting/PortOrders/{sid}"),
    (
        "DELETE",
        "/porting/PortOrders/PO0123456789abcdef0123456789abcdef",
        "/porting/PortOrders/{sid}",
    ),
    ("PATCH", "/porting/Loas", "/porting/Loas"),  # a method the route does not take
    ("GET", "/porting/Nope/+14155550123", "/porting/{path}"),
    ("GET", "/loa/sign/secret.token-value", "/loa/sign/{token}"),
    ("GET", "/graphql/static/graphiql.min.js", "/graphql/static/{path}"),
    ("GET", "/healthz", "/healthz"),
    ("GET", "/wp-login.php", None),
]


@pytest.mark.parametrize(("method", "path", "template"), ROUTES_SEEN)
def test_routes_are_templates_never_raw_paths(
    settings: Settings, svc: Services, method: str, path: str, template: str | None
) -> None:
    app = create_app(settings, svc)
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    assert route_template(app.routes, scope) == template


@pytest.fixture
async def app_client(settings: Settings, svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client(create_app(settings, svc), LOOPBACK) as http:
        yield http


async def test_every_response_returns_a_request_id(app_client: httpx.AsyncClient) -> None:
    kept = await app_client.get("/healthz", headers={"X-Request-Id": "abc.DEF_1-2"})
    assert kept.headers["x-request-id"] == "abc.DEF_1-2"
    for bad in ("with space", "x" * 129, "semi;colon", 'quote"d'):
        minted = await app_client.get("/nowhere", headers={"X-Request-Id": bad})
        assert minted.status_code == 404
        assert re.fullmatch(r"[0-9a-f]{32}", minted.headers["x-request-id"])
    one, two = [await app_client.get("/healthz") for _ in range(2)]
    assert one.headers["x-request-id"] != two.headers["x-request-id"]


def test_operation_names_are_bounded() -> None:
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("james@example.com") == "other"
    assert metrics.operation_label("x" * 65) == "other"
    names = [
        metrics.operation_label(f"Invented{i}") for i in range(3 * metrics.MAX_OPERATION_NAMES)
    ]
    assert len(set(names)) <= metrics.MAX_OPERATION_NAMES + 1
    assert names[-1] == "other"


def test_log_lines_mask_what_looks_like_personal_data() -> None:
    line = logs.mask(
        "to james.smith@example.com, number +14155550123, Authorization: Basic "
        "QUMxMjM0NTY3ODkwOnNlY3JldA== for PO0123456789abcdef0123456789abcdef"
    )
    assert line == (
        "to [email], number [number], Authorization: Basic [redacted] for "
        "PO0123456789abcdef0123456789abcdef"
    )


SCHEMA = build_schema(Settings())._schema


def test_the_cost_estimate_multiplies_by_page_size() -> None:
    doc = parse(
        "query Q($n: Int) { a: portOrders(first: $n) { edges { node { sid loa { sid } } } }"
        ' node(id: "PO1") { id ...F } } fragment F on Node { id ...F }'
    )
    # a: 20 orders (their LOAs are single objects: no nodes of their own); node: none
    assert estimate(SCHEMA, doc, "Q", {"n": 20}) == 20
    assert estimate(SCHEMA, doc, "Q", {"n": 10_000}) == 100  # capped like the connection
    assert estimate(SCHEMA, doc, "Q", {}) == 50  # the default page
    assert estimate(SCHEMA, doc, "Other", {}) == 0


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("app.x", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_the_context_and_mask_the_message() -> None:
    tokens = (logs.request_id.set("rid-1"), logs.caller_sid.set("AC" + "1" * 32))
    try:
        try:
            raise ValueError("for bob@example.com")
        except ValueError:
            record = _record("sent to %s", "bob@example.com", duration_ms=1.5)
            record.exc_info = sys.exc_info()
        line = json.loads(logs.JsonFormatter().format(record))
        text = logs.TextFormatter().format(_record("plain", route="/healthz"))
    finally:
        logs.request_id.reset(tokens[0])
        logs.caller_sid.reset(tokens[1])
    assert line["level"] == "WARNING" and line["logger"] == "app.x"
    assert line["message"] == "sent to [email]"
    assert line["request_id"] == "rid-1" and line["account_sid"] == "AC" + "1" * 32
    assert line["duration_ms"] == 1.5
    assert line["exception_type"] == "ValueError" and "bob@" not in line["exception"]
    assert "operation" not in line
    assert text == f"WARNING app.x: plain request_id=rid-1 account_sid=AC{'1' * 32}"
