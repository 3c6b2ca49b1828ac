"""Inventory reads: newest first, keyset pages, each caller sees its own accounts' numbers."""

from __future__ import annotations

import pytest

from app.porting.errors import PortingError
from app.porting.statuses import PortOrderStatus
from app.services import inventory, operators, port_orders
from app.services.context import Caller, Services
from tests.builders import account, operator, order_input

S = PortOrderStatus


async def ported(svc: Services, op: Caller, caller: Caller, number: str) -> str:
    order = await port_orders.create_port_order(svc, caller, order_input(number=number))
    await operators.operator_set_status(svc, op, order.sid, S.REVIEW)
    done = await operators.operator_set_status(svc, op, order.sid, S.COMPLETED)
    assert done.incoming_phone_number_sid is not None
    return done.incoming_phone_number_sid


async def test_inventory_pages_and_visibility(svc: Services) -> None:
    op = await operator(svc)
    parent = await account(svc)
    sub = await account(svc, parent=parent)
    parent = Caller(parent.sid, "account", frozenset({parent.sid, sub.sid}))  # as it signs in now
    other = await account(svc)
    mine = [await ported(svc, op, parent, f"+1415987{5000 + i}") for i in range(3)]
    subs = [await ported(svc, op, sub, "+14159875100")]
    theirs = [await ported(svc, op, other, "+14159875200")]
    newest_first = list(reversed(mine + subs))

    first = await inventory.list_incoming_phone_numbers(svc, parent, page_size=2)
    assert [p.sid for p in first.items] == newest_first[:2] and first.has_more
    second = await inventory.list_incoming_phone_numbers(
        svc, parent, page_size=2, after_sid=first.items[-1].sid
    )
    assert [p.sid for p in second.items] == newest_first[2:] and not second.has_more
    back = await inventory.list_incoming_phone_numbers(
        svc, parent, page_size=2, before_sid=second.items[0].sid
    )
    assert [p.sid for p in back.items] == newest_first[:2] and back.backward

    only_sub = await inventory.list_incoming_phone_numbers(svc, sub)
    assert [p.sid for p in only_sub.items] == subs
    everyone = await inventory.list_incoming_phone_numbers(svc, op, page_size=100)
    assert {p.sid for p in everyone.items} == set(mine + subs + theirs)
    by_number = await inventory.list_incoming_phone_numbers(svc, op, number="+14159875200")
    assert [p.sid for p in by_number.items] == theirs

    assert await inventory.get_incoming_phone_number(svc, parent, theirs[0]) is None
    found = await inventory.get_incoming_phone_number(svc, other, theirs[0])
    assert found is not None and found.number == "+14159875200"
    loaded = await inventory.incoming_phone_numbers_by_sids(svc, parent, mine + theirs)
    assert set(loaded) == set(mine)

    for cursor in ("nonsense", theirs[0]):  # malformed, or not the caller's
        with pytest.raises(PortingError) as err:
            await inventory.list_incoming_phone_numbers(svc, parent, after_sid=cursor)
        assert err.value.code == 21826
        with pytest.raises(PortingError) as err:
            await inventory.list_incoming_phone_numbers(svc, parent, before_sid=cursor)
        assert err.value.code == 21825
