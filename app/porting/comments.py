"""Comments on a port order or a Port Request (pure): who may write, what a body is, and the
event a comment is (its payload is the `comment_added` callback's body).

A comment is text: stored and sent as written, escaped wherever HTML shows it (mail, pages).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from app.porting import sids
from app.porting.errors import PortingError
from app.porting.isotime import format_utc
from app.porting.text import BAD_CHARACTERS, LINES, TOO_LONG, refused_text

MAX_BODY = 10_000
EVENT_TYPE = "comment.added"
RESOURCE_TYPE = "comment"
CALLBACK_TYPE = "comment_added"
SUBJECTS = (sids.PORT_ORDER, sids.PORT_REQUEST)


class AuthorType(enum.StrEnum):
    CUSTOMER = "customer"  # an account (or subaccount) of the order
    OPERATOR = "operator"  # a porting operator
    SYSTEM = "system"  # Portico itself (e.g. a carrier's rejection, explained)


def check_body(body: object) -> str:
    """The body as given: 1 to MAX_BODY characters, not only blanks (else 21850), and text of
    lines: no control character but line breaks and tabs, no lone surrogate (else 21861)."""
    if not isinstance(body, str) or not body.strip() or "\x00" in body:
        raise PortingError(21850, field="body")
    refusal = refused_text(body, MAX_BODY, LINES)
    if refusal == TOO_LONG:
        raise PortingError(21850, field="body")
    if refusal == BAD_CHARACTERS:
        raise PortingError(BAD_CHARACTERS, "body contains characters that are not allowed", "body")
    return body


def payload(
    *,
    sid: str,
    subject_sid: str,
    author_type: AuthorType,
    author_sid: str | None,
    body: str,
    date_created: datetime,
) -> dict[str, Any]:
    """The event's payload, which is also the `comment_added` callback's JSON."""
    key = "port_order_sid" if subject_sid.startswith(sids.PORT_ORDER) else "port_request_sid"
    return {
        "callback_type": [CALLBACK_TYPE],
        "sid": sid,
        key: subject_sid,
        "author_type": author_type.value,
        "author_sid": author_sid,
        "body": body,
        "date_created": format_utc(date_created),
    }
