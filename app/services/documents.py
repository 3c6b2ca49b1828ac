"""Document use cases: upload to an order, list an order's documents, read one's bytes; and
the signed LOA's PDF, stored as a `loa` document of each order it covers (at signing).

Documents live in the database (a bytes column) so every replica serves them. A document is
recognised by its bytes (app/porting/documents.py), stored with its SHA-256, and its upload is
an event in the order's timeline (`document.added`, no callback).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from app.porting import documents, sids
from app.porting.documents import DocumentType
from app.porting.errors import PortingError
from app.porting.statuses import Actor
from app.services.context import Caller, Services
from app.store import bulk, events, queries
from app.store import documents as document_queries
from app.store.engine import Tx
from app.store.queries import Page
from app.store.tables import Document, PortOrder

MAX_PAGE_SIZE = 1000
RESOURCE_TYPE = "document"
EVENT_TYPE = "document.added"


@dataclass(frozen=True)
class NewDocument:
    """A checked upload, ready to store."""

    document_type: DocumentType
    file_name: str
    content_type: str
    content: bytes


def check(
    document_type: object, file_name: str | None, content: bytes | bytearray | None
) -> NewDocument:
    """21851 for an unknown type, 21852 without a file, 21853 for anything but PDF, PNG or
    JPEG (by its bytes)."""
    kind = documents.parse_type(document_type)
    if content is None:
        raise PortingError(21852, field="file")
    content_type = documents.content_type(bytes(content[: documents.SNIFF_BYTES]))
    return NewDocument(
        kind, documents.clean_file_name(file_name, content_type), content_type, bytes(content)
    )


async def add(
    tx: Tx, order: PortOrder, new: NewDocument, actor: Actor, actor_sid: str | None, now: datetime
) -> Document:
    """Store a document of `order` and its event, in the caller's transaction."""
    doc = Document(
        sid=sids.mint(sids.DOCUMENT),
        account_sid=order.account_sid,
        port_order_sid=order.sid,
        document_type=new.document_type.value,
        file_name=new.file_name,
        content_type=new.content_type,
        size=len(new.content),
        sha256=hashlib.sha256(new.content).hexdigest(),
        content=new.content,
        date_created=now,
    )
    tx.add(doc)
    events.record(
        tx,
        resource_type=RESOURCE_TYPE,
        resource_sid=order.sid,
        account_sid=order.account_sid,
        type=EVENT_TYPE,
        payload={
            "sid": doc.sid,
            "port_order_sid": order.sid,
            "document_type": doc.document_type,
            "file_name": doc.file_name,
            "content_type": doc.content_type,
            "size": doc.size,
            "sha256": doc.sha256,
        },
        actor=actor,
        actor_sid=actor_sid,
        now=now,
        port_request_sid=order.port_request_sid,
    )
    return doc


async def add_many(tx: Tx, orders: list[PortOrder], new: NewDocument, now: datetime) -> None:
    """The same document for each of `orders` (the signed LOA's PDF), in one statement."""
    digest = hashlib.sha256(new.content).hexdigest()
    rows = [
        bulk.values_of(
            Document(
                sid=sids.mint(sids.DOCUMENT),
                account_sid=order.account_sid,
                port_order_sid=order.sid,
                document_type=new.document_type.value,
                file_name=new.file_name,
                content_type=new.content_type,
                size=len(new.content),
                sha256=digest,
                content=new.content,
                date_created=now,
            )
        )
        for order in orders
    ]
    await bulk.insert_rows(tx, Document, rows)


async def visible_order(svc: Services, caller: Caller, order_sid: str) -> PortOrder:
    """The order, if the caller may read it (else 20404): asked before any upload is read."""
    if not sids.is_sid(order_sid, sids.PORT_ORDER):
        raise PortingError(20404, field="sid")
    async with svc.db.read() as s:
        order = await queries.port_order(s, order_sid, caller.visible)
    if order is None:
        raise PortingError(20404, field="sid")
    return order


async def upload(svc: Services, caller: Caller, order_sid: str, new: NewDocument) -> Document:
    async def store(tx: Tx) -> Document:
        order = await queries.port_order(tx, order_sid, caller.visible)
        if order is None:
            raise PortingError(20404, field="sid")
        return await add(tx, order, new, caller.actor, caller.sid, svc.clock())

    return await svc.run(store)


async def list_of_order(
    svc: Services, caller: Caller, order_sid: str, page_size: int, after_sid: str | None
) -> Page[Document]:
    await visible_order(svc, caller, order_sid)
    async with svc.db.read() as s:
        after_key = None
        if after_sid is not None:
            after_key = await document_queries.key_of(s, order_sid, after_sid)
            if after_key is None:
                raise PortingError(21826, field="AfterSid")
        return await document_queries.of_order(
            s, order_sid, min(page_size, MAX_PAGE_SIZE), after_key
        )


async def of_orders(
    svc: Services, caller: Caller, order_sids: list[str]
) -> dict[str, list[Document]]:
    async with svc.db.read() as s:
        return await document_queries.of_orders(s, order_sids, caller.visible)


async def content(svc: Services, caller: Caller, order_sid: str, sid: str) -> Document:
    """One document with its bytes (20404 unless it is a document of a visible order)."""
    async with svc.db.read() as s:
        doc = await document_queries.with_content(s, order_sid, sid, caller.visible)
    if doc is None:
        raise PortingError(20404, field="sid")
    return doc
