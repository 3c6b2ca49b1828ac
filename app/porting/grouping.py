"""Which LOA an order joins (CONTRACT.md §3).

One LOA covers the open orders of one account that share the signer (first and last name,
email), the service address and the port type. The key compares names and addresses without
letter case and with runs of spaces in the street collapsed; while an LOA is open its key is
stored (`loas.open_group_key`, unique), so concurrent creates of one group share one LOA.
"""

from __future__ import annotations

import hashlib
import json

from app.porting.validation import PortOrderFields


def group_key(account_sid: str, f: PortOrderFields) -> str:
    parts = [
        account_sid,
        f.first_name.casefold(),
        f.last_name.casefold(),
        f.email.casefold(),
        f.iso_country,
        f.region.casefold(),
        f.city.casefold(),
        f.postal_code.casefold(),
        " ".join(f.street.casefold().split()),
        f.port_type.value,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()
