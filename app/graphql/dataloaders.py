"""One dataloader per relation, built per request (ARCHITECTURE.md §3.5).

Each batch runs one read in a session of its own (through app/services/reads) and returns its
results in key order. Nested connections are keyed by (parent SID, page arguments): the keys of
one batch that share their arguments are read with one windowed statement.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader

from app.graphql.pagination import EventArgs, PageArgs
from app.porting.errors import PortingError
from app.porting.requests import NumberResult
from app.services import comments, deliveries, documents, inventory, reads
from app.services.context import Caller, Services
from app.services.deliveries import DeliveryRecord
from app.store.queries import Page
from app.store.tables import (
    Comment,
    Document,
    Event,
    IncomingPhoneNumber,
    Loa,
    PortOrder,
    PortOrderError,
    PortRequest,
)

A = TypeVar("A", bound=Hashable)
V = TypeVar("V")


async def _grouped(
    keys: Sequence[tuple[str, A]],
    read: Callable[[list[str], A], Awaitable[dict[str, V]]],
) -> list[V | PortingError]:
    """Read each group of keys sharing arguments at once; a PortingError fails its group."""
    groups: dict[A, list[str]] = defaultdict(list)
    for sid, args in keys:
        if sid not in groups[args]:
            groups[args].append(sid)
    found: dict[tuple[str, A], V | PortingError] = {}
    for args, sids in groups.items():
        try:
            pages = await read(sids, args)
        except PortingError as exc:
            found.update({(sid, args): exc for sid in sids})
        else:
            found.update({(sid, args): pages[sid] for sid in sids})
    return [found[key] for key in keys]


class Loaders:
    def __init__(self, svc: Services, caller: Caller) -> None:
        self.svc = svc
        self.caller = caller
        loop = asyncio.get_running_loop()

        def loader(
            fn: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]],
        ) -> DataLoader[Any, Any]:
            return DataLoader(fn, loop=loop)

        # LOAs a page read with its orders (query.PortingQuery.port_orders), by SID: an
        # order's `loa` answers from here without a load (nodes.PortOrderType.loa).
        self.loa_rows: dict[str, Loa] = {}
        self.loa_types: dict[str, object] = {}  # their GraphQL objects, made once (nodes.py)
        self.port_order: DataLoader[str, PortOrder | None] = loader(self._port_orders)
        self.loa: DataLoader[str, Loa | None] = loader(self._loas)
        self.errors: DataLoader[str, list[PortOrderError]] = loader(self._errors)
        self.orders_of_loa: DataLoader[tuple[str, PageArgs], Page[PortOrder]] = loader(
            self._orders_of_loas
        )
        self.order_count_of_loa: DataLoader[str, int] = loader(self._order_counts)
        self.events: DataLoader[tuple[str, EventArgs], Page[Event]] = loader(self._events)
        self.event_count: DataLoader[str, int] = loader(self._event_counts)
        self.incoming_phone_number: DataLoader[str, IncomingPhoneNumber | None] = loader(
            self._incoming_phone_numbers
        )
        self.callback_deliveries: DataLoader[str, list[DeliveryRecord]] = loader(
            self._callback_deliveries
        )
        self.port_request: DataLoader[str, PortRequest | None] = loader(self._port_requests)
        self.request_numbers: DataLoader[str, list[NumberResult]] = loader(self._request_numbers)
        self.request_loa_sids: DataLoader[str, list[str]] = loader(self._request_loa_sids)
        self.orders_of_request: DataLoader[tuple[str, PageArgs], Page[PortOrder]] = loader(
            self._orders_of_requests
        )
        self.order_count_of_request: DataLoader[str, int] = loader(self._request_order_counts)
        self.comments: DataLoader[tuple[str, PageArgs], Page[Comment]] = loader(self._comments)
        self.comment_count: DataLoader[str, int] = loader(self._comment_counts)
        self.documents: DataLoader[str, list[Document]] = loader(self._documents)

    async def _port_orders(self, sids: list[str]) -> list[PortOrder | None]:
        found = await reads.port_orders_by_sids(self.svc, self.caller, sids)
        return [found.get(sid) for sid in sids]

    async def _loas(self, sids: list[str]) -> list[Loa | None]:
        found = await reads.loas_by_sids(self.svc, self.caller, sids)
        return [found.get(sid) for sid in sids]

    async def _errors(self, sids: list[str]) -> list[list[PortOrderError]]:
        found = await reads.errors_by_order(self.svc, sids)
        return [found.get(sid, []) for sid in sids]

    async def _orders_of_loas(
        self, keys: list[tuple[str, PageArgs]]
    ) -> list[Page[PortOrder] | PortingError]:
        async def read(sids: list[str], a: PageArgs) -> dict[str, Page[PortOrder]]:
            return await reads.port_orders_of_loas(
                self.svc, self.caller, sids, a.limit, a.after, a.before, a.from_end
            )

        return await _grouped(keys, read)

    async def _order_counts(self, sids: list[str]) -> list[int]:
        found = await reads.count_port_orders_of_loas(self.svc, self.caller, sids)
        return [found[sid] for sid in sids]

    async def _events(self, keys: list[tuple[str, EventArgs]]) -> list[Page[Event] | PortingError]:
        async def read(sids: list[str], a: EventArgs) -> dict[str, Page[Event]]:
            return await reads.events_of_orders(
                self.svc, self.caller, sids, a.limit, a.after_id, a.before_id, a.from_end
            )

        return await _grouped(keys, read)

    async def _event_counts(self, sids: list[str]) -> list[int]:
        found = await reads.count_events_of_orders(self.svc, self.caller, sids)
        return [found[sid] for sid in sids]

    async def _incoming_phone_numbers(self, sids: list[str]) -> list[IncomingPhoneNumber | None]:
        found = await inventory.incoming_phone_numbers_by_sids(self.svc, self.caller, sids)
        return [found.get(sid) for sid in sids]

    async def _callback_deliveries(self, sids: list[str]) -> list[list[DeliveryRecord]]:
        found = await deliveries.deliveries_by_order(self.svc, self.caller, sids)
        return [found[sid] for sid in sids]

    async def _port_requests(self, sids: list[str]) -> list[PortRequest | None]:
        found = await reads.port_requests_by_sids(self.svc, self.caller, sids)
        return [found.get(sid) for sid in sids]

    async def _request_numbers(self, sids: list[str]) -> list[list[NumberResult]]:
        rows = await reads.port_requests_by_sids(self.svc, self.caller, sids)
        found = await reads.numbers_of_requests(self.svc, list(rows.values()))
        return [found.get(sid, []) for sid in sids]

    async def _request_loa_sids(self, sids: list[str]) -> list[list[str]]:
        visible = await reads.port_requests_by_sids(self.svc, self.caller, sids)
        found = await reads.loa_sids_of_requests(self.svc, list(visible))
        return [found.get(sid, []) for sid in sids]

    async def _orders_of_requests(
        self, keys: list[tuple[str, PageArgs]]
    ) -> list[Page[PortOrder] | PortingError]:
        async def read(sids: list[str], a: PageArgs) -> dict[str, Page[PortOrder]]:
            return await reads.port_orders_of_requests(
                self.svc, self.caller, sids, a.limit, a.after, a.before, a.from_end
            )

        return await _grouped(keys, read)

    async def _request_order_counts(self, sids: list[str]) -> list[int]:
        found = await reads.count_port_orders_of_requests(self.svc, self.caller, sids)
        return [found[sid] for sid in sids]

    async def _comments(
        self, keys: list[tuple[str, PageArgs]]
    ) -> list[Page[Comment] | PortingError]:
        async def read(sids: list[str], a: PageArgs) -> dict[str, Page[Comment]]:
            return await comments.threads(
                self.svc, self.caller, sids, a.limit, a.after, a.before, a.from_end
            )

        return await _grouped(keys, read)

    async def _comment_counts(self, sids: list[str]) -> list[int]:
        found = await comments.count_threads(self.svc, self.caller, sids)
        return [found[sid] for sid in sids]

    async def _documents(self, sids: list[str]) -> list[list[Document]]:
        found = await documents.of_orders(self.svc, self.caller, sids)
        return [found[sid] for sid in sids]
