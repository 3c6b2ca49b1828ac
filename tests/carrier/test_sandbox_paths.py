"""Each sandbox path end to end at service level: create -> request signature -> sign -> the
scheduler runs the carrier's steps -> the status the number's last four digits call for."""

from __future__ import annotations

import pytest

from app.porting.errors import PortingError
from app.porting.statuses import PortOrderStatus
from app.services import inventory, port_orders, reads
from app.services.context import Services
from tests.builders import account, order_input
from tests.carrier.conftest import signed_order, statuses_of, wait_for_status

S = PortOrderStatus
BOTH = ["status_update", "activation_date_update"]
STATUS = ["status_update"]


@pytest.mark.usefixtures("scheduler")
async def test_any_other_number_is_accepted_then_completed_into_inventory(svc: Services) -> None:
    caller = await account(svc)
    order = await signed_order(svc, caller, "+14159872001")
    submitted = await reads.get_port_order(svc, caller, order.sid)
    assert submitted is not None
    submitted_foc = submitted.activation_date

    done = await wait_for_status(svc, caller, order.sid, S.COMPLETED)

    assert done.incoming_phone_number_sid is not None
    assert done.incoming_phone_number_sid.startswith("PN")
    assert done.activation_date != submitted_foc  # the carrier set its own FOC date
    timeline = await statuses_of(svc, caller, order.sid)
    assert timeline == [
        ("CREATED", STATUS),
        ("PENDING", STATUS),
        ("SUBMITTED", STATUS),
        ("ACCEPTED", BOTH),  # acceptance and the FOC confirmation in one step
        ("COMPLETED", STATUS),
    ]
    events = (await reads.order_events(svc, caller, order.sid)).items
    accepted = next(e for e in events if e.payload["status"] == "ACCEPTED")
    assert accepted.actor == "carrier" and accepted.actor_sid is None
    assert accepted.payload["foc_date"] is not None
    completed = next(e for e in events if e.payload["status"] == "COMPLETED")
    assert completed.payload["phone_number_sid"] == done.incoming_phone_number_sid

    page = await inventory.list_incoming_phone_numbers(svc, caller)
    assert [(p.sid, p.number, p.port_order_sid) for p in page.items] == [
        (done.incoming_phone_number_sid, "+14159872001", order.sid)
    ]
    assert await reads.errors_by_order(svc, [order.sid]) == {order.sid: []}

    with pytest.raises(PortingError) as err:
        await port_orders.create_port_order(svc, caller, order_input(number="+14159872001"))
    assert err.value.code == 21838


@pytest.mark.usefixtures("scheduler")
async def test_0002_is_rejected_by_the_losing_carrier(svc: Services) -> None:
    caller = await account(svc)
    order = await signed_order(svc, caller, "+14159870002")

    done = await wait_for_status(svc, caller, order.sid, S.REJECTED)

    assert done.reason_code == 21831
    assert done.reason and "refused" in done.reason
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [(e.code, e.reason) for e in errors] == [(21831, done.reason)]
    assert await statuses_of(svc, caller, order.sid) == [
        ("CREATED", STATUS),
        ("PENDING", STATUS),
        ("SUBMITTED", STATUS),
        ("REJECTED", STATUS),
    ]
    assert done.incoming_phone_number_sid is None
    assert (await inventory.list_incoming_phone_numbers(svc, caller)).items == []


@pytest.mark.usefixtures("scheduler")
async def test_0003_goes_to_review(svc: Services) -> None:
    caller = await account(svc)
    order = await signed_order(svc, caller, "+14159870003")

    done = await wait_for_status(svc, caller, order.sid, S.REVIEW)

    assert done.reason and "review" in done.reason
    assert await statuses_of(svc, caller, order.sid) == [
        ("CREATED", STATUS),
        ("PENDING", STATUS),
        ("SUBMITTED", STATUS),
        ("REVIEW", STATUS),
    ]
    assert (await reads.errors_by_order(svc, [order.sid]))[order.sid] == []


@pytest.mark.usefixtures("scheduler")
async def test_0004_is_accepted_then_fails_on_its_foc_date(svc: Services) -> None:
    caller = await account(svc)
    order = await signed_order(svc, caller, "+14159870004")

    done = await wait_for_status(svc, caller, order.sid, S.FAILED)

    assert done.reason_code == 21835
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [e.code for e in errors] == [21835]
    assert await statuses_of(svc, caller, order.sid) == [
        ("CREATED", STATUS),
        ("PENDING", STATUS),
        ("SUBMITTED", STATUS),
        ("ACCEPTED", BOTH),
        ("FAILED", STATUS),
    ]
    assert done.incoming_phone_number_sid is None
    assert (await inventory.list_incoming_phone_numbers(svc, caller)).items == []


@pytest.mark.usefixtures("scheduler")
async def test_0001_is_rejected_at_the_check_and_never_reaches_the_carrier(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input(number="+14159870001"))
    assert order.status == S.REJECTED
    assert order.current_carrier and order.current_carrier.startswith("Sandbox")
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [e.code for e in errors] == [21827]
