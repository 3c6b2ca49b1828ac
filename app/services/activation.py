"""FOC windows of an order: the dates its activation may be set to now (app/porting/windows.py).

Before submission the earliest date counts from now (as the order's own dates do on every
change); once submitted, from the submission. A terminal order has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.porting import windows
from app.porting.dates import earliest_activation_date
from app.porting.errors import PortingError
from app.porting.statuses import TERMINAL, PortOrderStatus, PortType
from app.services import reads
from app.services.context import Caller, Services
from app.store.tables import PortOrder


@dataclass(frozen=True)
class Windows:
    order: PortOrder
    earliest: datetime | None
    latest: datetime
    dates: list[datetime]


def windows_of(svc: Services, order: PortOrder, limit: int) -> Windows:
    now = svc.clock()
    latest = windows.horizon(now)
    if PortOrderStatus(order.status) in TERMINAL:
        return Windows(order, None, latest, [])
    earliest = order.earliest_activation_date
    if order.submitted_date is None or earliest is None:
        earliest = earliest_activation_date(
            now,
            PortType(order.port_type),
            order.iso_country,
            order.region,
            svc.settings.business_days,
        )
    dates = windows.windows(earliest, now, order.iso_country, order.region, limit)
    return Windows(order, earliest, latest, dates)


async def activation_windows(
    svc: Services, caller: Caller, sid: str, limit: int = windows.MAX_WINDOWS
) -> Windows:
    """REST `GET .../ActivationWindows`: 20404 for an order the caller may not read."""
    if not 1 <= limit <= windows.MAX_WINDOWS:
        raise PortingError(20001, f"first must be between 1 and {windows.MAX_WINDOWS}", "first")
    order = await reads.get_port_order(svc, caller, sid)
    if order is None:
        raise PortingError(20404, field="sid")
    return windows_of(svc, order, limit)
