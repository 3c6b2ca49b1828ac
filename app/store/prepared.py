"""Selects built once, for the hottest reads (a page of orders: app/store/queries.py).

A `Prepared` holds a Core select whose every value is a bind parameter, built once per shape
(which filters, how many visible accounts, which direction), so a request neither builds the
statement again nor has SQLAlchemy walk it for its cache key.

On SQLite the statement is compiled once and run on the driver's connection directly
(app/store/sqlite_inline.py runs it on the event loop's thread): no execution context, no
cursor result, no `BEGIN` (a single SELECT is its own consistent read). Values go through
the same bind processors, and rows come back as SQLAlchemy `Row`s through the same result
processors, as `connection.execute` would give them, and the engine's `before_cursor_execute`
listeners (statement counting) hear it as any other statement. Any failure there (a connection gone
bad, anything unexpected) runs the statement again the ordinary way, which reports errors
(and invalidates connections) as every other statement does. On PostgreSQL the statement runs
the ordinary way (`connection.execute`), built once all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from app.store.sqlite_inline import on_driver


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind parameter names, in positional order
    fixed: dict[str, Any]  # values the statement gives itself (SQLite's OFFSET 0 after LIMIT ?)
    binds: tuple[Callable[[Any], Any] | None, ...]
    meta: SimpleResultMetaData
    processors: Any  # the result processors, or None when no column has one
    key_to_index: dict[Any, int]

    def args(self, params: dict[str, Any]) -> list[Any]:
        fixed = self.fixed
        values = [params[n] if n in params else fixed[n] for n in self.names]
        return [v if p is None else p(v) for v, p in zip(values, self.binds, strict=True)]

    def rows(self, data: Sequence[Sequence[Any]]) -> list[Row[Any]]:
        meta, processors, index = self.meta, self.processors, self.key_to_index
        return [Row(meta, processors, index, d) for d in data]


def _compile(stmt: Select[Any], dialect: Dialect) -> _Compiled:
    compiled: Any = stmt.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    fixed = {n: v for n, v in compiled.params.items() if v is not None}
    bind_processors = compiled._bind_processors
    binds = tuple(bind_processors.get(n) for n in names)
    keys = [c.keyname for c in compiled._result_columns]
    processors = [c.type._cached_result_processor(dialect, None) for c in compiled._result_columns]
    meta = SimpleResultMetaData(keys)
    return _Compiled(
        sql=compiled.string,
        names=names,
        fixed=fixed,
        binds=binds,
        meta=meta,
        processors=processors if any(p is not None for p in processors) else None,
        key_to_index=meta._key_to_index,
    )


class Prepared:
    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._sqlite: _Compiled | None = None

    async def all(self, conn: AsyncConnection, params: dict[str, Any]) -> list[Row[Any]]:
        if conn.dialect.name == "sqlite":
            try:
                return await self._on_driver(conn, params)
            except Exception:  # the ordinary way reports it
                return await self._fallback(conn, params)
        return await self._fallback(conn, params)

    async def _fallback(self, conn: AsyncConnection, params: dict[str, Any]) -> list[Row[Any]]:
        return list((await conn.execute(self.stmt, params)).all())

    async def _on_driver(self, conn: AsyncConnection, params: dict[str, Any]) -> list[Row[Any]]:
        c = self._sqlite
        if c is None:
            c = self._sqlite = _compile(self.stmt, conn.dialect)
        sync = conn.sync_connection
        if sync is None:
            raise RuntimeError("connection not started")
        data = await on_driver(sync, c.sql, c.args(params))
        return c.rows(data)
