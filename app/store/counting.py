"""SQL statement counting for benchmarks (PORTICO_DEBUG_COUNT_SQL=true): each HTTP request
gets a counter in a context variable; a cursor-execute listener on the engines bumps it; the
middleware answers the count in the `X-Portico-Sql-Statements` header. Transaction control
(BEGIN, COMMIT, ...) is not counted. Off by default: no
listener, no middleware.

SQLAlchemy runs the listener in the greenlet of the awaiting task, which carries the task's
context, so statements of dataloader batches (tasks copied from the request's context) count
for the request too.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-portico-sql-statements"
_counter: ContextVar[list[int] | None] = ContextVar("sql_statements", default=None)


_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def count_statements(engine: AsyncEngine) -> None:
    """Count the statements that do work: transaction control (BEGIN, COMMIT, ...) is left
    out, since SQLite's driver sends it through the cursor and asyncpg does not."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        box = _counter.get()
        if box is not None and not statement.lstrip().upper().startswith(_CONTROL):
            box[0] += 1


class CountSqlMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        box = [0]
        token = _counter.set(box)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (HEADER, str(box[0]).encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            _counter.reset(token)
