"""GraphQL of the workflow around an order: `addComment` and the `commentAdded` subscription
(the comments' connections are fields of PortOrder and PortRequest, app/graphql/nodes.py and
requests.py). Thin calls into the services; expected failures are `userErrors`."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from app.graphql.context import Context
from app.graphql.flow_types import CommentType, wrap_comment
from app.graphql.nodes import CtxInfo
from app.graphql.payloads import UserError, user_errors
from app.graphql.subscriptions import _stream, not_found, parse_after, websocket_only
from app.porting import comments as comment_rules
from app.porting.comments import AuthorType
from app.porting.errors import PortingError, PortingErrors
from app.porting.isotime import parse_utc
from app.services import comments
from app.store.tables import Comment, Event


@strawberry.type
class CommentPayload:
    comment: CommentType | None
    user_errors: list[UserError]


@strawberry.type(
    name="CommentEvent", description="A comment was added: its cursor and the comment."
)
class CommentEvent:
    row: strawberry.Private[Event]

    @strawberry.field(description="This event's position in the log: pass it as `after`.")
    def cursor(self) -> str:
        return str(self.row.id)

    @strawberry.field(description="The port order or Port Request the comment is about.")
    def subject_sid(self) -> strawberry.ID:
        return strawberry.ID(self.row.resource_sid)

    @strawberry.field(description="The comment, as written.")
    def comment(self) -> CommentType:
        p = self.row.payload
        return wrap_comment(
            Comment(
                sid=str(p["sid"]),
                account_sid=self.row.account_sid,
                subject_sid=self.row.resource_sid,
                author_type=AuthorType(str(p["author_type"])),
                author_sid=p.get("author_sid"),
                body=str(p["body"]),
                date_created=parse_utc(str(p.get("date_created") or "")) or self.row.date_created,
            )
        )


@strawberry.type
class FlowMutation:
    @strawberry.mutation(
        description="Add a comment to a port order's or a Port Request's thread (1 to 10,000 "
        "characters): the other side is told (comment_added callback, email)."
    )
    async def add_comment(
        self, info: CtxInfo, subject_sid: strawberry.ID, body: str
    ) -> CommentPayload:
        ctx = info.context
        try:
            row = await comments.add_comment(ctx.services, ctx.who, subject_sid, body)
        except (PortingError, PortingErrors) as exc:
            errors = user_errors(exc, (), ("subject_sid", "body"))
            return CommentPayload(comment=None, user_errors=errors)
        return CommentPayload(comment=wrap_comment(row), user_errors=[])


async def _nothing_to_read(ctx: Context, event: Event) -> None:
    """A comment event carries the whole comment: nothing is read for it."""


def _comment_event(event: Event) -> CommentEvent:
    return CommentEvent(row=event)


def _any(event: Event) -> bool:
    return True


@strawberry.type
class FlowSubscription:
    @strawberry.subscription(
        description="Comments added to one order's or Port Request's thread (`subjectSid`) or "
        "to every thread you may read; with `after`, first the comments since that cursor."
    )
    async def comment_added(
        self, info: CtxInfo, subject_sid: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncGenerator[CommentEvent, None]:
        ctx = info.context
        websocket_only(ctx)
        after_id = parse_after(after)
        if subject_sid is not None:
            try:
                async with ctx.services.db.read() as s:
                    await comments.subject(s, subject_sid, ctx.who.visible)
            except PortingError:
                raise not_found() from None
        return _stream(
            info,
            comment_rules.RESOURCE_TYPE,
            subject_sid,
            after_id,
            _any,
            _comment_event,
            prefetch=_nothing_to_read,
        )
