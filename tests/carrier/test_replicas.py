"""Two replicas (two Services, each with its own scheduler, bus and pool) on one PostgreSQL
database: 50 ports run to COMPLETED and every step happens exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from app.config import Settings
from app.porting.statuses import PortOrderStatus
from app.runners.scheduler import Scheduler
from app.services import inventory, loas, port_orders, reads
from app.store import queries
from app.store.queries import PortOrderFilter
from app.wiring import build_services
from tests.builders import account, order_input, signature
from tests.carrier.conftest import DEADLINE, STEP
from tests.conftest import SECRET

ORDERS = 50


@pytest.mark.postgres
async def test_two_replicas_complete_50_orders_each_exactly_once(
    pg_database: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=pg_database,
        secret_key=SECRET,
        var_dir=tmp_path / "var",
        sandbox_step_seconds=STEP,
        scheduler_batch_size=5,  # small batches: the replicas interleave
    )
    a, b = build_services(settings), build_services(settings)
    await a.start()
    await b.start()
    replicas = [Scheduler(a), Scheduler(b)]
    try:
        caller = await account(a)
        orders = [
            await port_orders.create_port_order(
                a,
                caller,
                order_input(
                    number=f"+1415987{3000 + i}",
                    last_name=("Smith", "Jones", "Brown", "Lee", "Clark")[i % 5],
                ),
            )
            for i in range(ORDERS)
        ]
        loa_sids = sorted({o.loa_sid for o in orders})
        assert len(loa_sids) == 5
        for sid in loa_sids:
            await loas.request_signature(a, caller, sid)
            await loas.sign(a, sid, signature())  # 10 SUBMITTED orders and their jobs each
        for sched in replicas:
            sched.start()

        completed = PortOrderFilter(status=PortOrderStatus.COMPLETED.value)
        deadline = asyncio.get_running_loop().time() + DEADLINE
        while (
            await reads.list_port_orders(a, caller, completed, page_size=100)
        ).items.__len__() < ORDERS:
            assert asyncio.get_running_loop().time() < deadline, "ports did not complete"
            await a.bus.wait_beyond(a.bus.last_id, STEP)
        # The last completion is committed; let its scheduler finish counting it before stop.
        while sum((sched.outcomes for sched in replicas), Counter())["complete"] < ORDERS:
            assert asyncio.get_running_loop().time() < deadline, "outcomes not counted"
            await asyncio.sleep(0.05)
    finally:
        for sched in replicas:
            await sched.stop()
        await b.close()

    try:
        for order in orders:
            events = (await reads.order_events(a, caller, order.sid, limit=100)).items
            moves = [e.payload["status"] for e in events if e.type.startswith("port_order.")]
            assert moves == ["CREATED", "PENDING", "SUBMITTED", "ACCEPTED", "COMPLETED"]
            async with a.db.read() as s:
                jobs = await queries.jobs_of_order(s, order.sid)
            assert [(j.kind, j.state, j.attempts) for j in jobs] == [
                ("carrier.submit", "done", 1),
                ("carrier.answer", "done", 1),
                ("carrier.answer", "done", 1),
            ]
        numbers = await inventory.list_incoming_phone_numbers(a, caller, page_size=100)
        assert sorted(p.number for p in numbers.items) == sorted(o.number for o in orders)
        final = await reads.list_port_orders(a, caller, PortOrderFilter(), page_size=100)
        assert {o.incoming_phone_number_sid for o in final.items} == {p.sid for p in numbers.items}

        ran = [sched.outcomes for sched in replicas]
        assert sum(ran, Counter()) == {"submitted": ORDERS, "accept": ORDERS, "complete": ORDERS}
        assert all(sum(c.values()) > 0 for c in ran), ran  # both replicas took part
    finally:
        await a.close()
