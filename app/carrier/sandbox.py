"""The sandbox carrier: decides by the number's last four digits (see README).

`0001` is not portable at the check (21827). Every other number passes the check.
"""

from __future__ import annotations

import hashlib

from app.carrier.adapter import Portability

CARRIERS = ("Sandbox Wireless", "Sandbox Telecom", "Sandbox Fiber", "Sandbox Mobile")


def carrier_name(number: str) -> str:
    digest = hashlib.sha256(number.encode()).digest()
    return CARRIERS[digest[0] % len(CARRIERS)]


class SandboxCarrier:
    async def check_portability(self, number: str) -> Portability:
        name = carrier_name(number)
        if number.endswith("0001"):
            return Portability(
                False, name, 21827, f"Number {number} cannot be ported: not portable at {name}"
            )
        return Portability(True, name)
