"""Helpers for the GraphQL tests: SQL statement counting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.services.context import Services

_NOT_COUNTED = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)\b", re.I)


class Statements:
    """Counts the SQL statements sent to the database (transaction control left out)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not _NOT_COUNTED.match(statement):
            self.seen.append(statement)

    @property
    def count(self) -> int:
        return len(self.seen)


@contextmanager
def counting(svc: Services) -> Iterator[Statements]:
    counter = Statements()
    engines = {id(e): e for e in (svc.db.read_engine, svc.db.write_engine)}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", counter)
