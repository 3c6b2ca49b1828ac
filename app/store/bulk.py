"""Many rows of one table in one statement (a Port Request's orders, LOAs, events, deliveries):
the statements of a bulk write do not grow with its rows.

- `insert`: the DBAPI's executemany (SQLite: one `executemany`; asyncpg: one pipelined batch),
  for rows whose ids nobody needs back.
- `insert_returning_ids`: one `INSERT ... VALUES (...), (...) RETURNING id` for all the rows
  (SQLAlchemy's insertmanyvalues, its page made as large as the batch), ids in row order: one
  statement assigns its integer keys in the order of its rows on both databases, so the keys
  sorted are the rows' keys (RETURNING itself promises no order; asking SQLAlchemy to sort
  would send SQLite one statement per row).

The rows are plain column values (`values_of` a new model instance); nothing here goes
through the session's unit of work, so the instances stay transient. Runs inside the caller's
transaction and never commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from app.store.engine import Tx
from app.store.sqlite_inline import driver_error, on_driver

M = TypeVar("M", bound=SQLModel)


def table_of(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


_COLUMN_NAMES: dict[type[SQLModel], tuple[str, ...]] = {}


def values_of(row: SQLModel) -> dict[str, Any]:
    """The column values of a new row (its id left to the database)."""
    model = type(row)
    names = _COLUMN_NAMES.get(model)
    if names is None:
        names = tuple(c.name for c in table_of(model).columns if c.name != "id")
        _COLUMN_NAMES[model] = names
    return {name: getattr(row, name) for name in names}


_DEFAULTS: dict[type[SQLModel], list[tuple[str, Any]]] = {}


def new_row(model: type[M], values: dict[str, Any]) -> M:
    """A new (transient) row: what `model(**values)` gives (the model's defaults for the fields
    not given; keys that name no field are left out), built as SQLAlchemy builds a row it
    loads, its values placed at once rather than one attribute event per column (a new row's
    flush or INSERT reads them all)."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        fields = model.model_fields.items()
        defaults = _DEFAULTS[model] = [(n, f) for n, f in fields if not f.is_required()]
    row: Any = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    data = row.__dict__
    for name, field in defaults:
        if name not in values:
            data[name] = field.get_default(call_default_factory=True)
    given = {k: v for k, v in values.items() if k in model.model_fields}
    data.update(given)
    object.__setattr__(row, "__pydantic_fields_set__", set(given))
    result: M = row
    return result


async def insert_rows(tx: Tx, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await tx.execute(insert(table_of(model)), list(rows))


async def insert_returning_ids(
    tx: Tx,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    fixed: dict[str, Any] | None = None,
    also_returning: Sequence[Any] = (),
) -> list[int]:
    """`fixed`: columns whose value is the same SQL expression in every row (rendered into
    the statement, e.g. the writing transaction's id); `also_returning`: expressions evaluated
    for each row inserted, after its id (their values are not kept, e.g. a `pg_notify`)."""
    if not rows:
        return []
    table = table_of(model)
    stmt = (
        insert(table)
        .values(**(fixed or {}))
        .returning(table.c.id, *also_returning)
        .execution_options(insertmanyvalues_page_size=len(rows))
    )
    ids = sorted(int(i) for i in (await tx.execute(stmt, list(rows))).scalars())
    if len(ids) != len(rows):
        raise RuntimeError(f"{len(rows)} rows inserted, {len(ids)} ids returned")
    return ids


@dataclass(frozen=True)
class Compiled:
    """A statement compiled once for one dialect, run as its SQL string with positional values
    (`AsyncConnection.exec_driver_sql`): no construction, cache key or compilation per run,
    for a large statement built once per shape. Values go through the columns' bind
    processors, as `execute` would send them; errors are reported as by any other statement."""

    sql: str
    names: tuple[str, ...]  # bind parameter names, in positional order
    fixed: dict[str, Any]  # values the statement gives itself (a literal, an OFFSET)
    binds: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def of(cls, stmt: Any, dialect: Dialect) -> Compiled:
        compiled: Any = stmt.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        processors = compiled._bind_processors
        return cls(
            sql=compiled.string,
            names=names,
            fixed={n: v for n, v in compiled.params.items() if v is not None},
            binds=tuple(processors.get(n) for n in names),
        )

    def _args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        fixed = self.fixed
        values = [params[n] if n in params else fixed[n] for n in self.names]
        return tuple(v if p is None else p(v) for v, p in zip(values, self.binds, strict=True))

    async def execute(self, conn: AsyncConnection, params: dict[str, Any]) -> Any:
        """The statement's result: its rows by `.all()`, `.one()`, `.scalar_one()`."""
        args = self._args(params)
        if conn.dialect.name == "sqlite":
            found = await _on_sqlite_driver(conn, self.sql, args, many=False)
            if found is not None:
                return found
        return await conn.exec_driver_sql(self.sql, args)

    async def execute_many(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        """The statement once for each row (the DBAPI's executemany)."""
        many = [self._args(r) for r in rows]
        if conn.dialect.name == "sqlite" and await _on_sqlite_driver(
            conn, self.sql, many, many=True
        ):
            return
        await conn.exec_driver_sql(self.sql, many)


class _Rows:
    """The rows of a statement run on SQLite's driver: raw values, as `exec_driver_sql`
    gives them (a plain SQL string has no result types)."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def __bool__(self) -> bool:
        return True

    def all(self) -> list[Any]:
        return self._rows

    def one(self) -> Any:
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]


async def _on_sqlite_driver(
    conn: AsyncConnection, sql: str, args: Any, *, many: bool
) -> _Rows | None:
    """The statement on aiosqlite's connection directly (app/store/sqlite_inline.py runs it on
    the loop's thread), in the transaction the connection has open: no execution context and
    no cursor result around it, a tenth of the time `exec_driver_sql` takes. The engine's
    `before_cursor_execute` listeners (statement counting) hear it as any other statement.
    None: not run, run it the ordinary way (a connection not usable here, or an engine that
    logs its statements).

    A failure leaves SQLite's transaction as it was (the statement undone) or ends it. As it
    was, a single statement is run again the ordinary way, which reports it (and invalidates
    the connection) as every other statement does; otherwise (a transaction SQLite rolled
    back, or an executemany that may have written some rows) it is raised as SQLAlchemy
    raises it, without running anything again."""
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated or sync._echo:
        return None  # (an engine logging its statements logs these too, the ordinary way)
    driver: Any = sync.connection.driver_connection  # aiosqlite's connection
    if driver is None:
        return None
    in_transaction = driver.in_transaction
    try:
        return _Rows(await on_driver(sync, sql, args, many=many))
    except sqlite3.Error as error:
        if not many and driver.in_transaction == in_transaction:
            return None  # the ordinary way runs it again and reports it
        raise driver_error(sql, args, error, sync, many=many) from error
