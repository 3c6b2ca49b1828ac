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

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import SQLModel

from app.store.engine import Tx


def table_of(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def values_of(row: SQLModel) -> dict[str, Any]:
    """The column values of a new row (its id left to the database)."""
    return {c.name: getattr(row, c.name) for c in table_of(type(row)).columns if c.name != "id"}


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
