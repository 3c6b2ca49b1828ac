"""Documents (issue 13 point 2): multipart uploads recognised by their bytes (PDF, PNG, JPEG;
an executable that claims `.pdf` is refused), 10 MB + 1 refused while streaming (the rest of
the body never read), metadata lists, the bytes back as an attachment, identical (sha256) from
another replica on PostgreSQL, the tenant rules, nothing stored on a refused upload."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.services import port_orders
from app.services.context import Services
from app.wiring import build_services
from tests.builders import Tenant, order_input, tenant
from tests.conftest import GraphQL, settings_for, snapshot
from tests.rest.conftest import ORDERS, assert_error
from tests.subscriptions.support import live_server

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200)) + b"\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00" + b"\x00" * 300
MB = 1024 * 1024
KEYS = (
    "sid",
    "account_sid",
    "port_order_sid",
    "document_type",
    "file_name",
    "content_type",
    "size",
    "sha256",
    "date_created",
    "url",
)


async def new_order(svc: Services, who: Tenant) -> str:
    return (await port_orders.create_port_order(svc, who.caller, order_input())).sid


async def upload(
    http: httpx.AsyncClient,
    who: Tenant,
    sid: str,
    content: bytes,
    name: str = "bill.pdf",
    document_type: str = "utility_bill",
    claimed: str = "application/pdf",
) -> httpx.Response:
    return await http.post(
        f"{ORDERS}/{sid}/Documents",
        data={"document_type": document_type},
        files={"file": (name, content, claimed)},
        auth=who.auth,
    )


@pytest.mark.parametrize(
    ("content", "name", "kind", "content_type"),
    [
        (PDF, "bill.pdf", "utility_bill", "application/pdf"),
        (PNG, "scan.png", "csr", "image/png"),
        (JPEG, "photo of the invoice.jpg", "invoice", "image/jpeg"),
        (PNG, "C:\\Users\\me\\named-pdf-but-png.pdf", "other", "image/png"),
    ],
)
async def test_upload_list_and_download(
    http: httpx.AsyncClient,
    svc: Services,
    alice: Tenant,
    content: bytes,
    name: str,
    kind: str,
    content_type: str,
) -> None:
    sid = await new_order(svc, alice)
    r = await upload(http, alice, sid, content, name, kind, claimed="application/octet-stream")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert tuple(doc) == KEYS
    assert re.fullmatch(r"DC[0-9a-f]{32}", doc["sid"])
    assert (doc["document_type"], doc["content_type"], doc["size"]) == (
        kind,
        content_type,
        len(content),
    )
    assert doc["file_name"] == name.split("\\")[-1]
    assert doc["sha256"] == hashlib.sha256(content).hexdigest()

    listed = (await http.get(f"{ORDERS}/{sid}/Documents", auth=alice.auth)).json()
    assert listed["meta"]["key"] == "documents" and listed["documents"] == [doc]
    got = await http.get(doc["url"].removeprefix("http://testserver"), auth=alice.auth)
    assert got.status_code == 200
    assert got.content == content
    assert got.headers["content-type"].startswith(content_type)
    assert got.headers["content-disposition"].startswith("attachment; filename=")
    assert got.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("content", "fields", "code", "status"),
    [
        (EXE, {"document_type": "invoice"}, 21853, 400),  # claims .pdf, is an executable
        (b"<html><script>alert(1)</script></html>", {"document_type": "invoice"}, 21853, 400),
        (b"", {"document_type": "invoice"}, 21853, 400),
        (PDF, {"document_type": "passport"}, 21851, 400),
        (PDF, {}, 21851, 400),
        (None, {"document_type": "invoice"}, 21852, 400),
    ],
)
async def test_a_refused_upload_stores_nothing(
    http: httpx.AsyncClient,
    svc: Services,
    alice: Tenant,
    content: bytes | None,
    fields: dict[str, str],
    code: int,
    status: int,
) -> None:
    sid = await new_order(svc, alice)
    before = await snapshot(svc)
    files: Any = (
        {"file": ("bill.pdf", content, "application/pdf")}
        if content is not None
        else {"other": ("x.txt", b"hello", "text/plain")}
    )
    r = await http.post(f"{ORDERS}/{sid}/Documents", data=fields, files=files, auth=alice.auth)
    body = assert_error(r, status, code)
    assert "passport" not in body["message"] and "bill.pdf" not in body["message"]
    assert await snapshot(svc) == before


async def test_a_body_that_is_not_multipart_is_21855_and_nothing_is_stored(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    sid = await new_order(svc, alice)
    before = await snapshot(svc)
    r = await http.post(f"{ORDERS}/{sid}/Documents", json={"file": "x"}, auth=alice.auth)
    assert_error(r, 415, 21855)
    assert await snapshot(svc) == before


async def test_another_accounts_order_and_documents_are_not_found(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    sid = await new_order(svc, alice)
    doc = (await upload(http, alice, sid, PDF)).json()
    other = await new_order(svc, alice)
    child = await tenant(svc, alice)
    before = await snapshot(svc)
    assert_error(await upload(http, bob, sid, PDF), 404, 20404)
    assert_error(await http.get(f"{ORDERS}/{sid}/Documents", auth=bob.auth), 404, 20404)
    content = f"{ORDERS}/{sid}/Documents/{doc['sid']}/Content"
    assert_error(await http.get(content, auth=bob.auth), 404, 20404)
    # a document is found under its own order only
    assert_error(
        await http.get(f"{ORDERS}/{other}/Documents/{doc['sid']}/Content", auth=alice.auth),
        404,
        20404,
    )
    assert_error(await http.get(content, auth=child.auth), 404, 20404)
    assert await snapshot(svc) == before


class Counted:
    """A request body sent in chunks, counting what the server asked for."""

    def __init__(self, head: bytes, size: int, tail: bytes, chunk: int = 64 * 1024) -> None:
        self.head, self.size, self.tail, self.chunk = head, size, tail, chunk
        self.sent = 0

    @property
    def total(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.sent += len(self.head)
        yield self.head
        left = self.size
        first = True
        while left:
            n = min(self.chunk, left)
            piece = (PDF + b"\x00" * n)[:n] if first else b"\x00" * n
            first = False
            left -= n
            self.sent += n
            yield piece
        self.sent += len(self.tail)
        yield self.tail


def _multipart(size: int) -> tuple[Counted, dict[str, str]]:
    boundary = "portico-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="document_type"\r\n\r\n'
        f'utility_bill\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="bill.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return Counted(head, size, tail), headers


async def test_ten_megabytes_are_taken_and_one_more_is_refused_while_streaming(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    assert svc.settings.document_max_bytes == 10 * MB  # the default
    sid = await new_order(svc, alice)
    body, headers = _multipart(10 * MB)
    r = await http.post(f"{ORDERS}/{sid}/Documents", content=body, headers=headers, auth=alice.auth)
    assert r.status_code == 201, r.text
    assert r.json()["size"] == 10 * MB

    before = await snapshot(svc)
    body, headers = _multipart(10 * MB + 1 + 4 * MB)  # the server stops after 10 MB + 1
    r = await http.post(f"{ORDERS}/{sid}/Documents", content=body, headers=headers, auth=alice.auth)
    assert_error(r, 413, 21854)
    assert body.sent < 10 * MB + 1 + 4 * MB  # refused while streaming, the rest never read
    assert body.sent <= 10 * MB + 1 + 2 * 64 * 1024 + len(body.head)
    assert await snapshot(svc) == before


async def test_the_cap_is_the_setting_portico_document_max_bytes(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTICO_DOCUMENT_MAX_BYTES", str(len(PNG)))
    svc.settings.document_max_bytes = Settings().document_max_bytes
    assert svc.settings.document_max_bytes == len(PNG)
    sid = await new_order(svc, alice)
    assert (await upload(http, alice, sid, PNG, "scan.png")).status_code == 201
    before = await snapshot(svc)
    assert_error(await upload(http, alice, sid, PNG + b"\x00", "scan.png"), 413, 21854)
    assert await snapshot(svc) == before


async def test_a_declared_length_past_the_cap_is_refused_before_reading(
    live_server_url: str, svc: Services, alice: Tenant
) -> None:
    sid = await new_order(svc, alice)
    host, port = live_server_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"POST {ORDERS}/{sid}/Documents HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {alice.authorization}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {20 * MB}\r\n\r\n"
        ).encode()
    )
    await writer.drain()  # and not one byte of the body
    async with asyncio.timeout(10):
        status = await reader.readline()
    assert status.startswith(b"HTTP/1.1 413"), status
    # Another upload is still sending its body (slowly) on a second connection; meanwhile the
    # server answers everyone else.
    slow_reader, slow = await asyncio.open_connection(host, int(port))
    slow.write(
        (
            f"POST {ORDERS}/{sid}/Documents HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {alice.authorization}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {MB}\r\n\r\n--b\r\n"
        ).encode()
    )
    await slow.drain()
    async with httpx.AsyncClient(base_url=live_server_url, timeout=10) as other:
        r = await other.get(f"{ORDERS}/{sid}/Documents", auth=alice.auth)
        assert r.status_code == 200 and r.json()["documents"] == []
    writer.close()
    slow.close()


@pytest.fixture
async def live_server_url(app: Any) -> AsyncIterator[str]:
    async with live_server(app) as server:
        yield server.http_url


async def test_graphql_lists_the_metadata(
    gql: GraphQL, http: httpx.AsyncClient, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    sid = await new_order(svc, alice)
    doc = (await upload(http, alice, sid, PNG, "scan.png", "csr")).json()
    query = """
    query ($sid: ID!) { portOrder(sid: $sid) {
      documents { sid documentType fileName contentType size sha256 url } } }
    """
    got = (await gql(query, {"sid": sid}, as_=alice))["portOrder"]["documents"]
    assert got == [
        {
            "sid": doc["sid"],
            "documentType": "CSR",
            "fileName": "scan.png",
            "contentType": "image/png",
            "size": len(PNG),
            "sha256": doc["sha256"],
            "url": doc["url"],
        }
    ]
    assert (await gql(query, {"sid": sid}, as_=bob))["portOrder"] is None


@pytest.mark.dialects("postgres")
async def test_another_replica_serves_the_same_bytes(
    database_url: str, tmp_path: Path, svc: Services, alice: Tenant
) -> None:
    """Two servers on one PostgreSQL database: uploaded through one, read through the other."""
    content = PDF + bytes(range(256)) * 4096  # 1 MiB and a bit, every byte value
    sid = await new_order(svc, alice)

    def replica(name: str) -> tuple[Settings, Services]:
        settings = settings_for(database_url, tmp_path / name)
        settings = settings.model_copy(
            update={"scheduler_enabled": False, "delivery_worker": False}
        )
        return settings, build_services(settings)

    (one_settings, one), (two_settings, two) = replica("one"), replica("two")
    try:
        async with (
            live_server(create_app(one_settings, one)) as first,
            live_server(create_app(two_settings, two)) as second,
            httpx.AsyncClient(base_url=first.http_url, timeout=30) as a,
            httpx.AsyncClient(base_url=second.http_url, timeout=30) as b,
        ):
            doc = (await upload(a, alice, sid, content, "bill.pdf", "utility_bill")).json()
            path = f"{ORDERS}/{sid}/Documents/{doc['sid']}/Content"
            got = await b.get(path, auth=alice.auth)
            assert got.status_code == 200
            assert hashlib.sha256(got.content).hexdigest() == doc["sha256"]
            assert got.content == content
            listed = (await b.get(f"{ORDERS}/{sid}/Documents", auth=alice.auth)).json()
            assert [d["sha256"] for d in listed["documents"]] == [doc["sha256"]]
    finally:
        await one.close()
        await two.close()
