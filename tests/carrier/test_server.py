"""The server's lifespan runs the scheduler: a port signed while the app is up completes."""

from __future__ import annotations

from app.config import Settings
from app.main import create_app
from app.porting.statuses import PortOrderStatus
from app.services.context import Services
from tests.builders import account
from tests.carrier.conftest import signed_order, wait_for_status


async def test_the_app_lifespan_runs_the_scheduler(svc: Services, settings: Settings) -> None:
    app = create_app(settings, svc)
    async with app.router.lifespan_context(app):
        caller = await account(svc)
        order = await signed_order(svc, caller, "+14159872001")
        done = await wait_for_status(svc, caller, order.sid, PortOrderStatus.COMPLETED)
    assert done.incoming_phone_number_sid is not None
    assert sum(app.state.scheduler.outcomes.values()) == 3


async def test_a_replica_can_leave_the_scheduling_to_others(
    svc: Services, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"scheduler_enabled": False}), svc)
    async with app.router.lifespan_context(app):
        assert not app.state.scheduler.running
