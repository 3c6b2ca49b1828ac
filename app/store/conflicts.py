"""Which unique constraint a failed write ran into, read from the driver's error.

A unique constraint is the last word on races that a read-then-write cannot close (two
creates of one number, one open LOA per group, one idempotency key). The use-case runner
(`Services.run`) maps the constraint, by name, to the answer: a PortingError, or a retry.

The names are the tables' unique constraints, as `table.column[,column]`: PostgreSQL reports
the constraint's name (asyncpg's `constraint_name`, e.g. `port_orders_active_number_key`),
SQLite the columns (`UNIQUE constraint failed: port_orders.active_number`).
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

ACTIVE_NUMBER = "port_orders.active_number"
INVENTORY_NUMBER = "incoming_phone_numbers.number"
LOA_GROUP = "loas.open_group_key"
IDEMPOTENCY_KEY = "idempotency_keys.account_sid,key"

# PostgreSQL's default names of the unique constraints above (`<table>_<columns>_key`).
_POSTGRES = {
    "port_orders_active_number_key": ACTIVE_NUMBER,
    "incoming_phone_numbers_number_key": INVENTORY_NUMBER,
    "loas_open_group_key_key": LOA_GROUP,
    "idempotency_keys_account_sid_key_key": IDEMPOTENCY_KEY,
}
_SQLITE = re.compile(r"UNIQUE constraint failed: ((?:\w+\.\w+(?:, )?)+)")


class RowChanged(Exception):
    """An optimistic claim lost: the row changed since this transaction read it (on
    PostgreSQL another transaction committed a change of it meanwhile). The use case read
    stale data: `Services.run` runs it again, and answers 20409 if that keeps happening."""


def unique_constraint(exc: IntegrityError) -> str | None:
    """`table.column[,column]` of the unique constraint `exc` violated, or None (another
    integrity error, or a constraint not named here)."""
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None) or getattr(orig, "constraint_name", None)
    if isinstance(name, str):
        return _POSTGRES.get(name)
    match = _SQLITE.search(str(orig))
    if match is None:
        return None
    columns = [c.strip() for c in match.group(1).split(",")]
    table = columns[0].split(".")[0]
    return table + "." + ",".join(c.split(".")[1] for c in columns)


def sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE of a PostgreSQL error (asyncpg's `sqlstate`), None elsewhere."""
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


# SQLSTATE classes and codes that mean "the database is not there right now": connection
# exceptions (08...), and the server shutting down or starting (57P01-57P03).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
RETRY_AFTER_SECONDS = 1


def stale_connection(exc: DBAPIError) -> bool:
    """True when `exc` is a pooled connection found dead (SQLAlchemy has invalidated it and
    the pool with it): nothing of the transaction was committed, and the next connection is
    a fresh one."""
    return bool(exc.connection_invalidated)


def unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database cannot be reached: refused or
    dropped connections, a server going down or coming up, no pooled connection in time, a
    SQLite file locked past its busy timeout. Such a request is answered 503 (20503)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | PoolTimeout):  # refused, reset, timed out
            return True
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            code = sqlstate(current)
            if code is not None and code.startswith(_UNAVAILABLE_SQLSTATES):
                return True
            if "database is locked" in str(current.orig):  # SQLite past busy_timeout
                return True
        if type(current).__name__ == "ConnectionDoesNotExistError":
            return True  # asyncpg's own: the connection went away mid-request
        current = current.__cause__ or current.__context__
    return False
