"""The page of orders on statements built once (app/store/prepared.py): the same rows, in the
same order, with the same values and types, as the ordinary execution of the same statement;
on SQLite read on the driver's connection (no fallback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.services import loas as loas_service
from app.services import port_orders
from app.services.context import Services
from app.store import queries
from app.store.prepared import Prepared
from app.store.queries import PortOrderFilter
from app.store.tables import Loa, PortOrderError
from tests.builders import order_input, signature, tenant


def _values(rows: list[Any]) -> list[tuple[tuple[str, Any], ...]]:
    return [tuple(r._mapping.items()) for r in rows]


async def test_pages_match_the_ordinary_execution(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await tenant(svc, name="prepared")
    other = await tenant(svc, name="other")
    for i in range(7):
        await port_orders.create_port_order(
            svc, owner.caller, order_input(company_name=f"Company {i % 2}")
        )
    await port_orders.create_port_order(svc, other.caller, order_input())

    ordinary: list[Any] = []
    driver: list[Any] = []
    plain_all = Prepared.all

    async def compared(self: Prepared, conn: Any, params: dict[str, Any]) -> list[Any]:
        expected = list((await conn.execute(self.stmt, params)).all())
        got = await plain_all(self, conn, params)
        ordinary.append(expected)
        driver.append(got)
        return got

    async def no_fallback(self: Prepared, conn: Any, params: dict[str, Any]) -> list[Any]:
        raise AssertionError("the driver path failed")

    monkeypatch.setattr(Prepared, "all", compared)
    if svc.db.url.startswith("sqlite"):
        monkeypatch.setattr(Prepared, "_fallback", no_fallback, raising=False)

    now = datetime.now(UTC)
    filters = [
        queries.PortOrderFilter(),
        queries.PortOrderFilter(company_name="Company 1"),
        queries.PortOrderFilter(activation_date_min=now - timedelta(days=3650)),
        queries.PortOrderFilter(activation_date_max=now - timedelta(days=3650)),
    ]
    async with svc.db.read_rows() as c:
        keys = [
            r.id for r in (await queries.list_port_orders(c, None, filters[0], 10, rows=True)).items
        ]
    windows: list[tuple[int, int | None, int | None, bool]] = [
        (3, None, None, False),
        (3, None, None, True),
        (2, keys[1], None, False),
    ]
    windows.append((2, None, keys[5], False))
    for f in filters:
        for visible in (owner.caller.visible, None, frozenset()):
            for window in windows:
                async with svc.db.read_rows() as c:
                    page, loas = await queries.list_port_orders_with_loas(c, visible, f, *window)
                async with svc.db.read_rows() as c:
                    plain = await queries.list_port_orders(c, visible, f, *window, rows=True)
                assert [r.sid for r in page.items] == [r.sid for r in plain.items]
                assert page.has_more == plain.has_more and page.backward == plain.backward
                assert set(loas) == {r.loa_sid for r in page.items if r.loa_sid}
    assert len(driver) == 1 + len(filters) * 3 * len(windows) * 2
    for expected, got in zip(ordinary, driver, strict=True):
        assert _values(got) == _values(expected)
        for e, g in zip(expected, got, strict=True):
            assert [type(v) for v in g] == [type(v) for v in e]
    seen = {r.sid for rows in driver for r in rows}
    assert seen and len(seen) == 8  # both accounts' orders, where visible


async def test_errors_of_a_page_match_the_ordinary_execution(svc: Services) -> None:
    owner = await tenant(svc, name="errors")
    orders = [
        await port_orders.create_port_order(svc, owner.caller, order_input()) for _ in range(3)
    ]
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with svc.db.write() as tx:
        for i, code in enumerate((21801, 21802, 21803)):
            tx.add(
                PortOrderError(port_order_sid=orders[i % 2].sid, code=code, reason="r", date=when)
            )
    sids = [o.sid for o in orders]
    async with svc.db.read_rows() as c:
        got = await queries.errors_by_order(c, sids, rows=True)
    async with svc.db.read() as s:
        expected = await queries.errors_by_order(s, sids)
    assert list(got) == list(expected) == sids
    for sid in sids:
        assert [(e.id, e.code, e.reason, e.date) for e in got[sid]] == [
            (e.id, e.code, e.reason, e.date) for e in expected[sid]
        ]
    assert [e.code for e in got[sids[0]]] == [21801, 21803] and got[sids[0]][0].date == when


async def test_the_loas_of_a_joined_page_are_the_loas_as_read_alone(svc: Services) -> None:
    """The LOA columns of the joined page are processed once per LOA (not per row): each LOA
    has every column with the value and type an ordinary read of the LOA gives (datetimes in
    UTC, a signed LOA's signature included)."""
    owner = await tenant(svc, name="joined")
    orders = [
        await port_orders.create_port_order(svc, owner.caller, order_input(first_name=name))
        for name in ("Ada", "Ada", "Grace")
    ]
    signed = orders[2]
    assert signed.loa_sid is not None
    await loas_service.request_signature(svc, owner.caller, signed.loa_sid)
    await loas_service.sign(svc, signed.loa_sid, signature())  # signed_date set
    async with svc.db.read_rows() as c:
        _page, loas = await queries.list_port_orders_with_loas(c, None, PortOrderFilter(), 10)
    async with svc.db.read() as s:
        alone = await queries.loas_by_sids(s, list(loas), None)
    assert len(loas) == 2 and set(loas) == {o.loa_sid for o in orders}
    for sid, loa in loas.items():
        for column in Loa.__table__.c:  # type: ignore[attr-defined]
            expected = getattr(alone[sid], column.key)
            got = getattr(loa, column.key)
            assert (got, type(got)) == (expected, type(expected)), column.key
        assert loa.date_created.tzinfo is not None
    signed_date = loas[signed.loa_sid].signed_date
    assert signed_date is not None and signed_date.tzinfo is not None
