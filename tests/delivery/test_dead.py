"""A delivery that used up its attempts is kept as dead, listed, and can be sent again."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.cli import main
from app.porting.errors import PortingError
from app.services import deliveries, port_orders
from app.services.context import Services
from app.store import queries
from tests.builders import order_input, tenant
from tests.delivery.conftest import drain
from tests.delivery.receiver import Receiver


async def test_dead_deliveries_are_listed_and_sent_again(
    nsvc: Services, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {"code": 500}
    flaky = Receiver(answer=lambda _: answers["code"]).start()
    try:
        who = await tenant(nsvc)
        order = await port_orders.create_port_order(
            nsvc, who.caller, order_input(status_callback=flaky.url("/hooks"))
        )
        await drain(nsvc)  # 4 attempts each (the schedule has 3 retries), then dead
        dead = await deliveries.dead_deliveries(nsvc)
        callbacks = [r for r in dead if r.delivery.channel == "callback"]
        assert [r.delivery.port_order_sid for r in callbacks] == [order.sid] * 2
        assert all(len(r.attempts) == 4 for r in callbacks)

        # the CLI lists them (as the administrator sees them) ...
        monkeypatch.setenv("PORTICO_DATABASE_URL", nsvc.settings.database_url)
        monkeypatch.setenv("PORTICO_SECRET_KEY", nsvc.settings.resolved_secret_key)
        assert await asyncio.to_thread(main, ["deliveries", "dead", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert {r["sid"] for r in listed} >= {r.delivery.sid for r in callbacks}
        assert all(r["attempts"] == 4 and "HTTP 500" in r["last_error"] for r in listed)

        # ... and sends one again: the receiver is fixed now
        answers["code"] = 200
        first = callbacks[0].delivery
        assert await asyncio.to_thread(main, ["deliveries", "retry", first.sid]) == 0
        await drain(nsvc)
        async with nsvc.db.read() as s:
            again = await queries.delivery_by_sid(s, first.sid)
        assert again is not None and again.state == "delivered"
        ids = [r.headers["webhook-id"] for r in flaky.received]
        assert ids.count(first.sid) == 5  # the same id on every try, old and new
        # retrying something that is not dead changes nothing
        with pytest.raises(PortingError) as refused:
            await deliveries.retry_delivery(nsvc, first.sid)
        assert refused.value.code == 20404
        assert await asyncio.to_thread(main, ["deliveries", "retry", "DLnot-a-sid"]) == 1
    finally:
        flaky.stop()
