"""Object types of the workflow around an order: comments, documents, a rejection's exception
and the FOC windows. The plain fields of Comment and Document are the GraphQL fields of
app/porting/fields.py; `comments_connection` is the one resolver of every `comments` field
(PortOrder.comments, PortRequest.comments), through the request's dataloaders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.fields import PlainValues, plain_fields
from app.graphql.pagination import Connection, connection, from_porting, page_args
from app.porting import fields
from app.porting.comments import AuthorType
from app.porting.documents import DocumentType as DocumentKind
from app.porting.errors import PortingError
from app.porting.exceptions import ExceptionType as ExceptionKind
from app.store.tables import Comment, Document

strawberry.enum(AuthorType, name="CommentAuthorType", description="Who wrote a comment.")
strawberry.enum(DocumentKind, name="DocumentType", description="What a document is.")
strawberry.enum(
    ExceptionKind, name="PortOrderExceptionType", description="Why a port was rejected."
)


@strawberry.type(name="Comment", description="A message on an order's or a request's thread.")
@plain_fields(fields.COMMENT)
class CommentType:
    row: strawberry.Private[Comment]
    id: strawberry.ID = strawberry.field(description="The comment's SID.")


_COMMENT_VALUES = PlainValues(fields.COMMENT)


def wrap_comment(row: Comment) -> CommentType:
    return CommentType(row=row, id=strawberry.ID(row.sid), **_COMMENT_VALUES(row))


@strawberry.type(
    name="Document", description="A file of a port order: its metadata (the bytes: REST)."
)
@plain_fields(fields.DOCUMENT)
class DocumentObject:
    row: strawberry.Private[Document]
    id: strawberry.ID = strawberry.field(description="The document's SID.")

    @strawberry.field(description="Where to download the bytes (REST, as an attachment).")
    def url(self, info: Info[Context, None]) -> str:
        return info.context.services.settings.url_for(
            f"/porting/PortOrders/{self.row.port_order_sid}/Documents/{self.row.sid}/Content"
        )


_DOCUMENT_VALUES = PlainValues(fields.DOCUMENT)


def wrap_document(row: Document) -> DocumentObject:
    return DocumentObject(row=row, id=strawberry.ID(row.sid), **_DOCUMENT_VALUES(row))


@strawberry.type(
    name="PortOrderException",
    description="Why a rejected order was rejected, and which of its fields to fix.",
)
class PortOrderException:
    type: ExceptionKind
    fields_to_fix: list[str] = strawberry.field(
        description="The order's field names (snake_case, as in REST) to correct."
    )


def wrap_exception(value: dict[str, Any] | None) -> PortOrderException | None:
    if not value:
        return None
    try:
        kind = ExceptionKind(str(value.get("type")))
    except ValueError:
        kind = ExceptionKind.OTHER
    return PortOrderException(type=kind, fields_to_fix=list(value.get("fields_to_fix") or []))


@strawberry.type(description="A date the FOC (activation) may be set to.")
class ActivationWindow:
    date: date = strawberry.field(description="A business day of the service address.")
    activation_date: datetime = strawberry.field(
        description="The activation date-time for that day (the earliest date's time of day)."
    )


async def comments_connection(
    info: Info[Context, None],
    subject_sid: str,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[CommentType]:
    args = page_args(first, after, last, before)
    loaders = info.context.loaders
    try:
        page = await loaders.comments.load((subject_sid, args))
    except PortingError as exc:
        raise from_porting(exc) from None
    return connection(
        page, args, wrap_comment, _sid, lambda: loaders.comment_count.load(subject_sid)
    )


def _sid(row: Comment) -> str:
    return row.sid
