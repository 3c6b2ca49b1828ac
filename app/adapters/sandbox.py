"""The sandbox carrier: decides by the number's last four digits (README, "Sandbox carrier").

- `0001`: not portable at the check (REJECTED, 21827).
- `0002`: rejected by the losing carrier one step after submission (REJECTED, 21831).
- `0003`: sent to manual review one step after submission (REVIEW).
- `0004`: accepted, then cannot be completed on its FOC date (FAILED, 21835).
- `0011` to `0017`: rejected one step after the first submission with an exception, one type
  each (EXCEPTIONS below), and accepted (then completed) once the order was fixed and submitted
  again.
- any other number: accepted one step after submission with an FOC date one step later,
  then completed on that date (COMPLETED).

`step` (PORTICO_SANDBOX_STEP_SECONDS) is the pace. The sandbox keeps no state: its answers
follow from the number, the order's status and the time, so any replica may ask.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from app.porting.carrier import (
    Accept,
    CarrierOrder,
    Complete,
    Fail,
    Portability,
    Reject,
    Reply,
    Review,
    Submitted,
    Wait,
)
from app.porting.exceptions import EXPLANATION, ExceptionType

CARRIERS = ("Sandbox Wireless", "Sandbox Telecom", "Sandbox Fiber", "Sandbox Mobile")

NOT_PORTABLE = "0001"
REJECTED = "0002"
REVIEW = "0003"
FAILED = "0004"
# Rejected on the first submission with this exception, accepted after the fix.
EXCEPTIONS = {
    "0011": ExceptionType.ACCOUNT_NUMBER_MISMATCH,
    "0012": ExceptionType.PIN_INVALID,
    "0013": ExceptionType.NAME_MISMATCH,
    "0014": ExceptionType.ADDRESS_MISMATCH,
    "0015": ExceptionType.BTN_MISMATCH,
    "0016": ExceptionType.NUMBER_NOT_PORTABLE,
    "0017": ExceptionType.OTHER,
}


def carrier_name(number: str) -> str:
    digest = hashlib.sha256(number.encode()).digest()
    return CARRIERS[digest[0] % len(CARRIERS)]


def _portability(number: str) -> Portability:
    name = carrier_name(number)
    if number.endswith(NOT_PORTABLE):
        return Portability(
            False, name, 21827, f"Number {number} cannot be ported: not portable at {name}"
        )
    return Portability(True, name)


class SandboxCarrier:
    def __init__(self, step: timedelta = timedelta(seconds=60)) -> None:
        self.step = step

    async def check_portability(self, number: str) -> Portability:
        return _portability(number)

    async def check_portability_many(self, numbers: Sequence[str]) -> list[Portability]:
        return [_portability(n) for n in numbers]

    async def submit(self, order: CarrierOrder, now: datetime) -> Submitted:
        return Submitted(answer_at=now + self.step)

    async def answer(self, order: CarrierOrder, now: datetime) -> Reply:
        name = order.current_carrier or carrier_name(order.number)
        last_four = order.number[-4:]
        if order.status == "ACCEPTED":
            if order.activation_date is not None and now < order.activation_date:
                return Wait(order.activation_date)
            if last_four == FAILED:
                return Fail(f"{name} could not complete the port of {order.number}", 21835)
            return Complete()
        exception = EXCEPTIONS.get(last_four)
        if exception is not None and order.submissions <= 1:
            return Reject(f"{name} refused the port: {EXPLANATION[exception]}", 21831, exception)
        if last_four == REJECTED:
            return Reject(
                f"{name} refused the port: the account details do not match its records", 21831
            )
        if last_four == REVIEW:
            return Review(f"{name} asked for manual review of the port of {order.number}")
        return Accept(foc_date=now + self.step)

    async def cancel(self, order: CarrierOrder) -> None:
        return None
