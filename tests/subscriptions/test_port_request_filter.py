"""`portOrderStatusChanged(portRequestSid)`: the changes of every order of one Port Request,
live and replayed, and nothing else; another account's request answers as a missing one."""

from __future__ import annotations

from app.services import port_orders, port_requests
from app.services.context import Services
from tests.builders import Tenant, order_input, request_input
from tests.subscriptions.support import TRANSPORT_WS, Live, data_of, raw, until

BY_REQUEST = """
subscription ($pr: ID, $after: String) {
  portOrderStatusChanged(portRequestSid: $pr, after: $after) {
    cursor portOrderSid status portOrder { portRequestSid }
  }
}
"""


async def test_only_the_orders_of_the_request(live: Live, svc: Services, alice: Tenant) -> None:
    request = await port_requests.create_port_request(svc, alice.caller, request_input())
    other = await port_requests.create_port_request(svc, alice.caller, request_input())
    alone = await port_orders.create_port_order(svc, alice.caller, order_input())
    mine = {n.port_order_sid for n in request.numbers or []}
    async with raw(live, TRANSPORT_WS) as conn:
        await conn.init({"Authorization": alice.authorization})
        await conn.subscribe("live", BY_REQUEST, {"pr": request.row.sid})
        await until(lambda: svc.hub.subscriber_count == 1)
        await port_orders.cancel_port_order(svc, alice.caller, alone.sid)
        await port_requests.cancel_port_request(svc, alice.caller, other.row.sid)
        await port_requests.cancel_port_request(svc, alice.caller, request.row.sid)
        got = [data_of(await conn.recv_data())["portOrderStatusChanged"] for _ in range(3)]
        assert {e["portOrderSid"] for e in got} == mine
        assert {(e["status"], e["portOrder"]["portRequestSid"]) for e in got} == {
            ("CANCELED", request.row.sid)
        }
        # replayed from the start of the log: its orders' whole history, no one else's
        await conn.subscribe("replay", BY_REQUEST, {"pr": request.row.sid, "after": "0"})
        replayed = [data_of(await conn.recv_data())["portOrderStatusChanged"] for _ in range(9)]
    paths = {sid: [e["status"] for e in replayed if e["portOrderSid"] == sid] for sid in mine}
    assert paths == {sid: ["CREATED", "PENDING", "CANCELED"] for sid in mine}
    cursors = [int(e["cursor"]) for e in replayed]
    assert cursors == sorted(cursors)


async def test_another_accounts_request_is_not_found(
    live: Live, svc: Services, alice: Tenant, bob: Tenant
) -> None:
    request = await port_requests.create_port_request(svc, alice.caller, request_input())
    async with raw(live, TRANSPORT_WS) as conn:
        await conn.init({"Authorization": bob.authorization})
        await conn.subscribe("foreign", BY_REQUEST, {"pr": request.row.sid, "after": "0"})
        foreign = await conn.recv_data()
        await conn.subscribe("missing", BY_REQUEST, {"pr": "PR" + "0" * 32})
        missing = await conn.recv_data()
    assert foreign["type"] == missing["type"] == "error"
    assert foreign["payload"] == missing["payload"]
    assert foreign["payload"][0]["extensions"] == {"code": 20404}
    assert svc.hub.subscriber_count == 0
