"""Who sees what (ARCHITECTURE.md §6): an account sees its own rows and its subaccounts';
a subaccount only its own; anyone else nothing (a foreign SID behaves like a missing one).
Operators see all."""

from __future__ import annotations

from app.services import accounts, loas, port_orders, reads
from app.services.context import Caller, Services
from app.store import queries
from app.store.queries import LoaFilter, PortOrderFilter
from tests.builders import account, operator, order_input
from tests.services.helpers import pending, refused

ALL = PortOrderFilter()


async def listed(svc: Services, caller: Caller) -> list[str]:
    return [o.sid for o in (await reads.list_port_orders(svc, caller, ALL)).items]


async def listed_loas(svc: Services, caller: Caller) -> list[str]:
    return [x.sid for x in (await reads.list_loas(svc, caller, LoaFilter())).items]


async def test_parent_subaccount_stranger_operator(svc: Services) -> None:
    parent = await account(svc)
    sub = await account(svc, parent=parent)
    stranger = await account(svc)
    mine = await pending(svc, parent)
    subs = await pending(svc, sub)
    theirs = await pending(svc, stranger)
    # the parent made `sub` before authenticating again: its Caller sees the subaccount
    parent = await account_again(svc, parent)

    assert await listed(svc, parent) == [subs.sid, mine.sid]
    assert await listed(svc, sub) == [subs.sid]
    assert await listed(svc, stranger) == [theirs.sid]
    assert await listed(svc, await operator(svc)) == [theirs.sid, subs.sid, mine.sid]
    assert await listed_loas(svc, parent) == [subs.loa_sid, mine.loa_sid]
    assert await listed_loas(svc, sub) == [subs.loa_sid]
    only_sub = PortOrderFilter(account_sid=sub.sid)
    assert [o.sid for o in (await reads.list_port_orders(svc, parent, only_sub)).items] == [
        subs.sid
    ]
    assert (await reads.list_port_orders(svc, stranger, only_sub)).items == []

    for caller, order, visible in [
        (parent, subs, True),
        (sub, mine, False),
        (stranger, subs, False),
        (stranger, mine, False),
    ]:
        got = await reads.get_port_order(svc, caller, order.sid)
        assert (got is not None) is visible
        assert (await reads.get_loa(svc, caller, order.loa_sid) is not None) is visible
        assert bool((await reads.order_events(svc, caller, order.sid)).items) is visible

    # the subaccount cannot touch the parent's order; the parent can act on the subaccount's
    async with refused(svc, 20404, "sid"):
        await port_orders.update_port_order(svc, sub, mine.sid, {"company_name": "x"})
    async with refused(svc, 20404, "sid"):
        await loas.request_signature(svc, sub, mine.loa_sid)
    async with refused(svc, 21826, "AfterSid"):
        await reads.list_port_orders(svc, sub, ALL, after_sid=mine.sid)
    updated = await port_orders.update_port_order(svc, parent, subs.sid, {"company_name": "Sub"})
    assert updated.company_name == "Sub" and updated.account_sid == sub.sid
    await port_orders.cancel_port_order(svc, parent, subs.sid)


async def account_again(svc: Services, caller: Caller) -> Caller:
    """Authenticate again (the visible set is fixed when a Caller is made)."""
    async with svc.db.read() as s:
        row = await queries.account_by_sid(s, caller.sid)
    assert row is not None
    again = await accounts.authenticate(svc, caller.sid, svc.cipher.decrypt(row.auth_token_enc))
    assert again is not None
    return again


async def test_creating_for_another_account(svc: Services) -> None:
    parent = await account(svc)
    sub = await account(svc, parent=parent)
    parent = await account_again(svc, parent)
    stranger = await account(svc)
    order = await port_orders.create_port_order(svc, parent, order_input(account_sid=sub.sid))
    assert order.account_sid == sub.sid
    assert await reads.get_port_order(svc, sub, order.sid) is not None
    async with refused(svc, 20404, "account_sid"):
        await port_orders.create_port_order(svc, sub, order_input(account_sid=parent.sid))
    async with refused(svc, 20404, "account_sid"):
        await port_orders.create_port_order(svc, stranger, order_input(account_sid=sub.sid))


async def test_authentication(svc: Services) -> None:
    acc, creds = await accounts.create_account(svc, "Main")
    op = await accounts.create_operator(svc, "Ops")
    assert (await accounts.authenticate(svc, creds.sid, creds.secret)) is not None
    assert (await accounts.authenticate(svc, op.sid, op.secret)).is_operator  # type: ignore[union-attr]
    for sid, secret in [
        (creds.sid, creds.secret + "x"),
        (creds.sid, ""),
        (creds.sid, op.secret),
        (op.sid, creds.secret),
        ("AC" + "0" * 32, creds.secret),
        ("nonsense", creds.secret),
        (creds.sid.lower(), creds.secret),
    ]:
        assert await accounts.authenticate(svc, sid, secret) is None, (sid, secret)


async def test_no_grandchildren(svc: Services) -> None:
    parent = await account(svc)
    sub = await account(svc, parent=parent)
    async with refused(svc, 20404, "parent_sid"):
        await accounts.create_account(svc, "Grandchild", sub.sid)
    async with refused(svc, 20404, "parent_sid"):
        await accounts.create_account(svc, "Orphan", "AC" + "1" * 32)
    fine, _ = await accounts.create_account(svc, "Second child", parent.sid)
    assert fine.parent_sid == parent.sid


async def test_dev_account_is_created_once(svc: Services) -> None:
    first = await accounts.ensure_dev_account(svc)
    again = await accounts.ensure_dev_account(svc)
    assert first == again
    assert [a.friendly_name for a in await accounts.list_accounts(svc)] == ["Development"]
