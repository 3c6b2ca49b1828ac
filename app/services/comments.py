"""Comment use cases: add a comment to a port order's or a Port Request's thread, read it.

A comment is an event (`comment.added`, resource type `comment`, about its subject) written in
the comment's transaction with the deliveries it implies (app/porting/notifications.py
`comment_deliveries`): the `comment_added` callback and the mail to the other side. The
subscription `commentAdded` follows the same events in the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.porting import comments, notifications, sids
from app.porting.comments import AuthorType
from app.porting.errors import PortingError
from app.porting.statuses import Actor
from app.services.context import Caller, Services
from app.store import comments as comment_queries
from app.store import events, queries
from app.store.engine import Tx
from app.store.queries import Page, Visible, Window
from app.store.tables import Comment

MAX_PAGE_SIZE = 1000
ACTORS = {
    AuthorType.CUSTOMER: Actor.CUSTOMER,
    AuthorType.OPERATOR: Actor.OPERATOR,
    AuthorType.SYSTEM: Actor.SERVICE,
}


@dataclass(frozen=True)
class Subject:
    """What a comment needs of the order or Port Request it is about."""

    sid: str
    account_sid: str
    port_request_sid: str | None
    port_order_sid: str | None
    status_callback: str | None
    customer_email: str | None


async def subject(tx: AsyncSession, sid: str, visible: Visible) -> Subject:
    """The order or Port Request `sid` names, if the caller may read it; else 20404."""
    if sids.is_sid(sid, sids.PORT_ORDER):
        order = await queries.port_order(tx, sid, visible)
        if order is not None:
            return Subject(
                order.sid,
                order.account_sid,
                order.port_request_sid,
                order.sid,
                order.status_callback,
                order.status_updates_email or order.email,
            )
    elif sids.is_sid(sid, sids.PORT_REQUEST):
        request = await queries.port_request(tx, sid, visible)
        if request is not None:
            first = await comment_queries.first_order_of_request(tx, request.sid)
            email = (first.status_updates_email or first.email) if first is not None else None
            return Subject(
                request.sid, request.account_sid, request.sid, None, request.status_callback, email
            )
    raise PortingError(20404, field="subject_sid")


async def add(
    tx: Tx,
    svc: Services,
    subject_sid: str,
    author_type: AuthorType,
    author_sid: str | None,
    body: str,
    visible: Visible = None,
) -> Comment:
    """Add a comment (its event and deliveries) in the caller's transaction."""
    text = comments.check_body(body)
    about = await subject(tx, subject_sid, visible)
    now = svc.clock()
    comment = Comment(
        sid=sids.mint(sids.COMMENT),
        account_sid=about.account_sid,
        subject_sid=about.sid,
        author_type=author_type.value,
        author_sid=author_sid,
        body=text,
        date_created=now,
    )
    tx.add(comment)
    payload = comments.payload(
        sid=comment.sid,
        subject_sid=about.sid,
        author_type=author_type,
        author_sid=author_sid,
        body=text,
        date_created=now,
    )
    planned = notifications.comment_deliveries(
        author_type.value,
        status_callback=about.status_callback,
        customer_email=about.customer_email,
        operator_email=svc.settings.operator_email,
        port_order_sid=about.port_order_sid,
    )
    events.record(
        tx,
        resource_type=comments.RESOURCE_TYPE,
        resource_sid=about.sid,
        account_sid=about.account_sid,
        type=comments.EVENT_TYPE,
        payload=payload,
        actor=ACTORS[author_type],
        actor_sid=author_sid,
        now=now,
        port_request_sid=about.port_request_sid,
        deliveries=planned,
    )
    return comment


async def add_comment(svc: Services, caller: Caller, subject_sid: str, body: object) -> Comment:
    """REST `POST .../Comments`, GraphQL `addComment`: the caller's comment (an operator's or
    the customer's)."""
    text = comments.check_body(body)
    author = AuthorType.OPERATOR if caller.is_operator else AuthorType.CUSTOMER
    return await svc.run(add, svc, subject_sid, author, caller.sid, text, caller.visible)


async def add_system_comment(tx: Tx, svc: Services, subject_sid: str, body: str) -> Comment:
    """Portico's own comment on a thread (in the caller's transaction)."""
    return await add(tx, svc, subject_sid, AuthorType.SYSTEM, None, body[: comments.MAX_BODY])


async def thread(
    svc: Services, caller: Caller, subject_sid: str, page_size: int, after_sid: str | None
) -> Page[Comment]:
    """One page of the subject's comments, oldest first (20404 for a subject the caller may not
    read; 21826 for an AfterSid that is no comment of it)."""
    async with svc.db.read() as s:
        about = await subject(s, subject_sid, caller.visible)
        after_key = None
        if after_sid is not None:
            after_key = await comment_queries.key_of(s, about.sid, after_sid)
            if after_key is None:
                raise PortingError(21826, field="AfterSid")
        return await comment_queries.thread(s, about.sid, min(page_size, MAX_PAGE_SIZE), after_key)


async def threads(
    svc: Services,
    caller: Caller,
    subject_sids: list[str],
    limit: int,
    after_sid: str | None = None,
    before_sid: str | None = None,
    from_end: bool = False,
) -> dict[str, Page[Comment]]:
    """One page of comments per subject (oldest first), for subjects the caller may read
    (GraphQL's `comments` connections; a cursor is a comment's SID: 21826/21825 when it names
    no comment the caller may read)."""
    async with svc.db.read() as s:
        after_key = before_key = None
        if after_sid is not None:
            after_key = await comment_queries.visible_key(s, after_sid, caller.visible)
            if after_key is None:
                raise PortingError(21826, field="after")
        if before_sid is not None:
            before_key = await comment_queries.visible_key(s, before_sid, caller.visible)
            if before_key is None:
                raise PortingError(21825, field="before")
        w = Window(min(limit, MAX_PAGE_SIZE), after_key, before_key, from_end)
        return await comment_queries.threads(s, subject_sids, caller.visible, w)


async def count_threads(svc: Services, caller: Caller, subject_sids: list[str]) -> dict[str, int]:
    async with svc.db.read() as s:
        return await comment_queries.count_threads(s, subject_sids, caller.visible)
