"""The order and LOA objects of a page are built without their dataclass `__init__`
(app/graphql/nodes.py `_built`): each equals, attribute for attribute, the object `__init__`
builds from the same values."""

from __future__ import annotations

import strawberry

from app.graphql import nodes
from app.services import port_orders, reads
from app.services.context import Services
from app.store.queries import PortOrderFilter
from tests.builders import order_input, tenant


async def test_wrapped_orders_and_loas_equal_the_ones_init_builds(svc: Services) -> None:
    owner = await tenant(svc)
    await port_orders.create_port_order(svc, owner.caller, order_input(cc_emails=["a@x.io"]))
    page, loas = await reads.list_port_orders_and_loas(svc, owner.caller, PortOrderFilter())
    for row in page.items:
        wrapped = nodes.wrap_order(row)
        built = nodes.PortOrderType(row=row, id=strawberry.ID(row.sid), **nodes._ORDER_VALUES(row))
        assert wrapped == built and vars(wrapped) == vars(built)
        assert type(wrapped) is nodes.PortOrderType and vars(wrapped)["cc_emails"] == ["a@x.io"]
    for loa in loas.values():
        wrapped_loa = nodes.wrap_loa(loa)
        built_loa = nodes.LoaType(row=loa, id=strawberry.ID(loa.sid), **nodes._LOA_VALUES(loa))
        assert vars(wrapped_loa) == vars(built_loa)
