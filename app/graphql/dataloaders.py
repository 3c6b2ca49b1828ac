"""One dataloader per relation, per request, made on first use (ARCHITECTURE.md §3.5).

Each batch runs one read in a session of its own (through app/services/reads) and returns its
results in key order. Nested connections are keyed by (parent SID, page arguments): the keys of
one batch that share their arguments are read with one windowed statement.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar, overload

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
K = TypeVar("K")
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


class _Lazy(Generic[K, V]):
    """A loader made on first use, once per `Loaders` (a request reads a few of the many
    relations): from then on the instance's own attribute."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.name = method

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Lazy[K, V]: ...
    @overload
    def __get__(self, obj: Loaders, owner: type) -> DataLoader[K, V]: ...
    def __get__(self, obj: Loaders | None, owner: type) -> Any:
        if obj is None:
            return self
        loader: DataLoader[K, V] = DataLoader(
            getattr(obj, self.method), loop=asyncio.get_running_loop()
        )
        obj.__dict__[self.name] = loader
        return loader


PageKey = tuple[str, PageArgs]


class Loaders:
    port_order: _Lazy[str, PortOrder | None] = _Lazy("_port_orders")
    loa: _Lazy[str, Loa | None] = _Lazy("_loas")
    errors: _Lazy[str, list[PortOrderError]] = _Lazy("_errors")
    orders_of_loa: _Lazy[PageKey, Page[PortOrder]] = _Lazy("_orders_of_loas")
    order_count_of_loa: _Lazy[str, int] = _Lazy("_order_counts")
    events: _Lazy[tuple[str, EventArgs], Page[Event]] = _Lazy("_events")
    event_count: _Lazy[str, int] = _Lazy("_event_counts")
    incoming_phone_number: _Lazy[str, IncomingPhoneNumber | None] = _Lazy("_incoming_phone_numbers")
    callback_deliveries: _Lazy[str, list[DeliveryRecord]] = _Lazy("_callback_deliveries")
    port_request: _Lazy[str, PortRequest | None] = _Lazy("_port_requests")
    request_numbers: _Lazy[str, list[NumberResult]] = _Lazy("_request_numbers")
    request_loa_sids: _Lazy[str, list[str]] = _Lazy("_request_loa_sids")
    orders_of_request: _Lazy[PageKey, Page[PortOrder]] = _Lazy("_orders_of_requests")
    order_count_of_request: _Lazy[str, int] = _Lazy("_request_order_counts")
    comments: _Lazy[PageKey, Page[Comment]] = _Lazy("_comments")
    comment_count: _Lazy[str, int] = _Lazy("_comment_counts")
    documents: _Lazy[str, list[Document]] = _Lazy("_documents")

    def __init__(self, svc: Services, caller: Caller) -> None:
        self.svc = svc
        self.caller = caller
        # LOAs a page read with its orders (query.PortingQuery.port_orders), by SID: an
        # order's `loa` answers from here without a load (nodes.PortOrderType.loa).
        self.loa_rows: dict[str, Loa] = {}
        self.loa_types: dict[str, object] = {}  # their GraphQL objects, made once (nodes.py)

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
