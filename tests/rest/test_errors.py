"""Error paths of the REST surface (issue point 6): Twilio's body, and nothing stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from app.rest.body import MAX_BODY_BYTES
from app.services import port_orders
from app.services.context import Services
from app.store import queries
from app.store.engine import Tx
from app.store.tables import PortOrder
from tests.builders import Tenant, order_input
from tests.conftest import snapshot
from tests.rest.conftest import LOAS, ORDERS, assert_error

pytestmark = pytest.mark.dialects("sqlite")

PO = "PO" + "0" * 32
PX = "PX" + "0" * 32


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", ORDERS, "GET, POST"),
        ("DELETE", ORDERS, "GET, POST"),
        ("PATCH", f"{ORDERS}/{PO}", "DELETE, GET, POST, PUT"),
        ("POST", LOAS, "GET"),
        ("PUT", LOAS, "GET"),
        ("DELETE", LOAS, "GET"),
        ("PUT", f"{LOAS}/{PX}", "GET, POST"),
        ("DELETE", f"{LOAS}/{PX}", "GET, POST"),
    ],
)
async def test_unavailable_methods_are_405(
    http: httpx.AsyncClient, alice: Tenant, method: str, path: str, allow: str
) -> None:
    for auth in (alice.auth, None):
        r = await http.request(method, path, auth=auth)
        assert_error(r, 405, 20004)
        assert r.headers["allow"] == allow


async def test_validation_failure_reports_first_and_all(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    before = await snapshot(svc)
    r = await http.post(
        ORDERS,
        json=order_input(number="+1", email="nope", city=..., cc_emails=["ok@example.com", "x"]),
        auth=alice.auth,
    )
    body = assert_error(r, 400, 21812)
    assert [(d["code"], d["field"]) for d in body["details"]] == [
        (21812, "number"),
        (21804, "city"),
        (21818, "email"),
        (21820, "cc_emails"),
    ]
    assert body["details"][0]["message"] == body["message"]
    assert await snapshot(svc) == before


async def test_body_over_one_mib_is_413(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    before = await snapshot(svc)
    big = json.dumps(order_input(street="x" * MAX_BODY_BYTES))
    r = await http.post(
        ORDERS, content=big, headers={"content-type": "application/json"}, auth=alice.auth
    )
    assert_error(r, 413, 20413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(17):
            yield b" " * 65536

    r = await http.post(
        ORDERS, content=chunks(), headers={"content-type": "application/json"}, auth=alice.auth
    )
    assert_error(r, 413, 20413)
    assert await snapshot(svc) == before


async def test_content_types(http: httpx.AsyncClient, svc: Services, alice: Tenant) -> None:
    before = await snapshot(svc)
    text = json.dumps(order_input())
    for content_type in ("text/plain", "multipart/form-data; boundary=x", "application/xml"):
        r = await http.post(
            ORDERS, content=text, headers={"content-type": content_type}, auth=alice.auth
        )
        assert_error(r, 415, 20415)
    r = await http.post(ORDERS, content=text, auth=alice.auth)  # no content type at all
    assert_error(r, 415, 20415)
    r = await http.post(
        f"{ORDERS}/{PO}", content="x=1", headers={"content-type": "text/csv"}, auth=alice.auth
    )
    assert_error(r, 415, 20415)
    assert await snapshot(svc) == before
    # JSON with a charset, and vendor +json types, are JSON.
    r = await http.post(
        ORDERS,
        content=text,
        headers={"content-type": "application/json; charset=utf-8"},
        auth=alice.auth,
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "content",
    [b"{bad", b'{"number": }', b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"a": NaN}'],
)
async def test_malformed_json_is_400(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, content: bytes
) -> None:
    before = await snapshot(svc)
    r = await http.post(
        ORDERS, content=content, headers={"content-type": "application/json"}, auth=alice.auth
    )
    body = assert_error(r, 400, 20001)
    assert body["message"].startswith("Malformed JSON body")
    assert await snapshot(svc) == before


async def test_text_a_database_cannot_hold_is_400(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    before = await snapshot(svc)
    r = await http.post(ORDERS, json=order_input(street="645\x00Harrison"), auth=alice.auth)
    assert_error(r, 400, 20001)
    r = await http.post(
        ORDERS,
        content=b'{"street": "\\ud800"}',
        headers={"content-type": "application/json"},
        auth=alice.auth,
    )
    assert_error(r, 400, 20001)
    r = await http.get(ORDERS, params={"Email": "a\x00b"}, auth=alice.auth)
    assert_error(r, 400, 20001)
    r = await http.get(f"{ORDERS}/PO%00", auth=alice.auth)
    assert_error(r, 404, 20404)
    r = await http.delete(f"{ORDERS}/PO%00", auth=alice.auth)
    assert_error(r, 404, 20404)
    assert await snapshot(svc) == before


async def test_concurrent_change_is_409(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = await http.post(ORDERS, json=order_input(), auth=alice.auth)
    order = r.json()
    before = await snapshot(svc)
    real = queries.port_order

    async def read_then_lose_the_race(session, sid, visible, *, for_update=False):  # type: ignore[no-untyped-def]
        row = await real(session, sid, visible, for_update=for_update)
        if row is not None and isinstance(session, Tx):  # inside the use case's transaction
            bump = (
                update(PortOrder).where(col(PortOrder.id) == row.id).values(version=row.version + 1)
            )
            await session.execute(bump.execution_options(synchronize_session=False))
        return row

    monkeypatch.setattr(queries, "port_order", read_then_lose_the_race)
    r = await http.post(
        f"{ORDERS}/{order['sid']}", json={"friendly_name": "Other"}, auth=alice.auth
    )
    assert_error(r, 409, 20409)
    r = await http.delete(f"{ORDERS}/{order['sid']}", auth=alice.auth)
    assert_error(r, 409, 20409)
    monkeypatch.setattr(queries, "port_order", real)
    assert await snapshot(svc) == before
    r = await http.get(f"{ORDERS}/{order['sid']}", auth=alice.auth)
    assert r.json() == order


async def test_unknown_path_is_a_twilio_404(http: httpx.AsyncClient, alice: Tenant) -> None:
    r = await http.get("/porting/Nope", auth=alice.auth)
    assert_error(r, 404, 20404)


async def test_unexpected_failure_is_a_masked_500(
    http: httpx.AsyncClient, alice: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(port_orders, "cancel_port_order", broken)
    r = await http.delete(f"{ORDERS}/{PO}", auth=alice.auth)
    body = assert_error(r, 500, 20500)
    assert "secret" not in r.text
    assert body["message"] == "Internal server error"
