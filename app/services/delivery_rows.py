"""What the sends of one claimed batch of deliveries read, loaded together: their events, the
accounts of their callbacks (auth token, webhook secrets) and the orders of their status
mails, one query per table instead of a read session per send.

The rows are as fresh as the claim; a send that waited longer than MAX_AGE_SECONDS for its
turn (a slow receiver ahead of it) reads its own again, as if there were none.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.porting.notifications import CALLBACK, KIND_CC_MAIL, KIND_STATUS_MAIL
from app.store import queries
from app.store.tables import Account, Delivery, Event, PortOrder

MAX_AGE_SECONDS = 2.0


@dataclass(frozen=True)
class Rows:
    events: Mapping[int, Event]
    accounts: Mapping[str, Account]
    orders: Mapping[str, PortOrder]
    read_at: float = field(default_factory=time.monotonic)

    @property
    def fresh(self) -> bool:
        return time.monotonic() - self.read_at < MAX_AGE_SECONDS


async def load(session: AsyncSession, deliveries: Sequence[Delivery]) -> Rows:
    """The rows `deliveries` will read (three queries at most, none for an empty batch)."""
    callbacks = [d for d in deliveries if d.channel == CALLBACK]
    mails = [
        d
        for d in deliveries
        if d.kind in (KIND_STATUS_MAIL, KIND_CC_MAIL) and d.port_order_sid is not None
    ]
    events = await queries.events_by_ids(session, {d.event_id for d in callbacks + mails})
    accounts = await queries.accounts_by_sids(session, {d.account_sid for d in callbacks})
    orders = await queries.port_orders_by_sids(
        session, {d.port_order_sid for d in mails if d.port_order_sid}, None
    )
    return Rows(events, accounts, orders)
