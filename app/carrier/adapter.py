"""The carrier adapter protocol: how Portico talks to a losing carrier.

There is no real carrier here; `app.carrier.sandbox` implements this protocol with the same
interface a real integration would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Portability:
    portable: bool
    current_carrier: str | None
    error_code: int | None = None  # 21827 when not portable
    reason: str | None = None


class CarrierAdapter(Protocol):
    async def check_portability(self, number: str) -> Portability:
        """The portability check run when an order is created or its number changes."""
