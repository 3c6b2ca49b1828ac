from app.porting.statuses import LoaStatus, PortOrderStatus
from app.services import loas, port_orders, reads
from app.services.context import Services
from tests.builders import account, order_input, signature


async def test_create_sign_submit(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    assert order.status == PortOrderStatus.PENDING
    loa = await loas.request_signature(svc, caller, order.loa_sid)
    assert loa.status == LoaStatus.SIGNING
    await loas.sign(svc, loa.sid, signature())
    again = await reads.get_port_order(svc, caller, order.sid)
    assert again is not None and again.status == PortOrderStatus.SUBMITTED
    assert again.submitted_date is not None
