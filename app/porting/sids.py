"""SIDs: two-letter type prefix + 32 lowercase hex digits (Twilio's shape)."""

from __future__ import annotations

import re
import uuid

ACCOUNT = "AC"
PORT_ORDER = "PO"
LOA = "PX"
PORT_REQUEST = "PR"
INCOMING_PHONE_NUMBER = "PN"
EVENT = "EV"
DELIVERY = "DL"
OPERATOR = "OP"
COMMENT = "CM"
DOCUMENT = "DC"

_SID = re.compile(r"([A-Z]{2})([0-9a-f]{32})")


def mint(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def is_sid(value: object, prefix: str | None = None) -> bool:
    if not isinstance(value, str):
        return False
    m = _SID.fullmatch(value)
    return m is not None and (prefix is None or m.group(1) == prefix)


def prefix_of(value: str) -> str | None:
    m = _SID.fullmatch(value)
    return m.group(1) if m else None
