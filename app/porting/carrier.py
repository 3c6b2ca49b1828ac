"""The carrier adapter protocol: how Portico talks to a losing carrier.

There is no real carrier here; `app.adapters.sandbox` implements this protocol with the same
interface a real integration would have. The conversation goes:

1. `check_portability(number)` when an order is created or its number changes;
   `check_portability_many(numbers)` for the numbers of a Port Request or a portability
   check, in one call (one round trip to a real carrier, not one per number).
2. `submit(order, now)` once the LOA is signed; the carrier acknowledges and says when to ask
   for its answer (`Submitted.answer_at`).
3. `answer(order, now)` when that time comes (and again at the FOC date of an accepted order):
   the carrier's answer as data (`Accept`, `Reject`, `Review`, `Fail`, `Complete`), or `Wait`
   when it has nothing to say yet. A carrier that pushes answers instead (webhooks) maps each
   push to the same data and hands it to `app.services.carrier_steps.apply_answer`.
4. `cancel(order)` when the customer cancels an order the carrier already has.

Calls may be repeated (a scheduler replica that dies mid-call leaves its job to another one),
so an adapter treats the order SID as its idempotency key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.porting.exceptions import ExceptionType


@dataclass(frozen=True)
class Portability:
    portable: bool
    current_carrier: str | None
    error_code: int | None = None  # 21827 when not portable
    reason: str | None = None


@dataclass(frozen=True)
class CarrierOrder:
    """What the losing carrier is told about an order. The write-only values are here because a
    real carrier needs them; they stay out of `repr` so they never reach a log line."""

    sid: str
    number: str
    port_type: str
    status: str  # Portico's status of the order (SUBMITTED or ACCEPTED when asked for an answer)
    current_carrier: str | None
    activation_date: datetime | None  # requested FOC (SUBMITTED) or confirmed FOC (ACCEPTED)
    submitted_date: datetime | None
    submissions: int = 1  # how many times the order was submitted (2 after a fix-and-resubmit)
    account_number: str | None = field(default=None, repr=False)
    pin_number: str | None = field(default=None, repr=False)
    ssn_last_four: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Submitted:
    """The carrier took the order; its answer can be asked for at `answer_at`."""

    answer_at: datetime


# --- the carrier's answers ------------------------------------------------------------------


@dataclass(frozen=True)
class Accept:
    """SUBMITTED -> ACCEPTED; the carrier confirms the FOC date."""

    foc_date: datetime


@dataclass(frozen=True)
class Reject:
    """SUBMITTED/ACCEPTED -> REJECTED: the losing carrier refused the port, with the
    exception's type and the order's fields to fix (None: the type's defaults,
    app/porting/exceptions.py)."""

    reason: str
    error_code: int = 21831
    exception_type: ExceptionType = ExceptionType.OTHER
    fields_to_fix: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Review:
    """-> REVIEW: the order needs manual handling by an operator."""

    reason: str


@dataclass(frozen=True)
class Fail:
    """-> FAILED: an unrecoverable fault."""

    reason: str
    error_code: int = 21835


@dataclass(frozen=True)
class Complete:
    """ACCEPTED -> COMPLETED: the FOC date came and the number moved."""


@dataclass(frozen=True)
class Wait:
    """No answer yet; ask again at `until`."""

    until: datetime


Answer = Accept | Reject | Review | Fail | Complete
Reply = Answer | Wait


class CarrierAdapter(Protocol):
    async def check_portability(self, number: str) -> Portability:
        """The portability check run when an order is created or its number changes."""

    async def check_portability_many(self, numbers: Sequence[str]) -> list[Portability]:
        """The same check for many numbers at once: one answer per number, in their order."""

    async def submit(self, order: CarrierOrder, now: datetime) -> Submitted:
        """Hand a signed order to the losing carrier."""

    async def answer(self, order: CarrierOrder, now: datetime) -> Reply:
        """The carrier's answer for a SUBMITTED order, or for an ACCEPTED one at its FOC date."""

    async def cancel(self, order: CarrierOrder) -> None:
        """The customer canceled an order the carrier already has."""
