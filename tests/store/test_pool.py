"""The PostgreSQL pool does not ping each connection it hands out (three round trips each on
asyncpg): a connection that died while pooled fails its first statement, SQLAlchemy renews
the pool, and a use case that had not reached its commit runs once more."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.services import port_orders, reads
from app.services.context import Services
from tests.builders import account, order_input

pytestmark = pytest.mark.dialects("postgres")


async def _terminate_pooled(svc: Services) -> int:
    """End every server process of the test's database but the one asking: what an outage or
    a failover leaves in the pool."""
    url = make_url(svc.db.url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        ended: int = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return ended


async def test_a_use_case_on_a_dead_pooled_connection_runs_again(svc: Services) -> None:
    caller = await account(svc)
    first = await port_orders.create_port_order(svc, caller, order_input())
    assert await _terminate_pooled(svc) >= 1
    second = await port_orders.create_port_order(svc, caller, order_input())  # no error
    for order in (first, second):
        stored = await reads.get_port_order(svc, caller, order.sid)
        assert stored is not None and stored.status == "PENDING"
