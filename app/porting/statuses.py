"""Statuses, the transition table of CONTRACT.md §4, and the update/cancel guards of section 5.

Pure: no I/O. A move that is not in TRANSITIONS is refused with 21822, whoever asks.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from app.porting.errors import PortingError


class PortOrderStatus(enum.StrEnum):
    CREATED = "CREATED"
    PENDING = "PENDING"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    REVIEW = "REVIEW"


class LoaStatus(enum.StrEnum):
    OPEN = "open"
    SIGNING = "signing"
    SIGNED = "signed"
    CANCELED = "canceled"
    REVIEW = "review"


class PortType(enum.StrEnum):
    MOBILE = "MOBILE"
    LANDLINE = "LANDLINE"
    TOLL_FREE = "TOLL_FREE"
    UNKNOWN = "UNKNOWN"


class PortRequestStatus(enum.StrEnum):
    """Where a Port Request stands: derived from its orders' statuses (app/porting/requests.py)."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    ACTION_REQUIRED = "ACTION_REQUIRED"
    COMPLETED = "COMPLETED"
    PARTIALLY_COMPLETED = "PARTIALLY_COMPLETED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"


class Actor(enum.StrEnum):
    """Who asks for a move. An operator may make every carrier move, and more."""

    CUSTOMER = "customer"
    SERVICE = "service"
    CARRIER = "carrier"
    OPERATOR = "operator"


class Action(enum.StrEnum):
    """What a customer may do with an order right now (GraphQL `allowedActions`)."""

    UPDATE = "UPDATE"
    CANCEL = "CANCEL"
    REQUEST_SIGNATURE = "REQUEST_SIGNATURE"


S = PortOrderStatus
TERMINAL: frozenset[PortOrderStatus] = frozenset({S.COMPLETED, S.CANCELED, S.FAILED})
NON_TERMINAL: frozenset[PortOrderStatus] = frozenset(set(S) - TERMINAL)
UPDATABLE: frozenset[PortOrderStatus] = frozenset({S.CREATED, S.PENDING, S.REJECTED})
MOBILE_CANCELABLE: frozenset[PortOrderStatus] = frozenset({S.CREATED, S.PENDING})
# Orders that hold their number: a second order for the same number is 21837 while one is open.
OPEN: frozenset[PortOrderStatus] = NON_TERMINAL
CANCEL_FOC_WINDOW = timedelta(hours=48)

_CARRIER = frozenset({Actor.CARRIER, Actor.OPERATOR})


def _table() -> dict[tuple[PortOrderStatus, PortOrderStatus], frozenset[Actor]]:
    t: dict[tuple[PortOrderStatus, PortOrderStatus], set[Actor]] = {}

    def allow(src: PortOrderStatus, dst: PortOrderStatus, *actors: Actor) -> None:
        t.setdefault((src, dst), set()).update(actors)

    allow(S.CREATED, S.PENDING, Actor.SERVICE)
    allow(S.CREATED, S.REJECTED, Actor.SERVICE, *_CARRIER)
    allow(S.PENDING, S.SUBMITTED, Actor.SERVICE)
    allow(S.SUBMITTED, S.ACCEPTED, *_CARRIER)
    allow(S.ACCEPTED, S.COMPLETED, *_CARRIER)
    allow(S.SUBMITTED, S.REJECTED, *_CARRIER)
    allow(S.ACCEPTED, S.REJECTED, *_CARRIER)
    for src in NON_TERMINAL:
        allow(src, S.FAILED, *_CARRIER)
        if src is not S.REVIEW:
            allow(src, S.REVIEW, *_CARRIER)
        allow(src, S.CANCELED, Actor.CUSTOMER)
    for dst in (S.PENDING, S.SUBMITTED, S.ACCEPTED, S.COMPLETED, S.REJECTED, S.FAILED):
        allow(S.REVIEW, dst, Actor.OPERATOR)
    allow(S.REJECTED, S.PENDING, Actor.CUSTOMER)
    return {k: frozenset(v) for k, v in t.items()}


TRANSITIONS = _table()


def can_move(src: PortOrderStatus, dst: PortOrderStatus, actor: Actor) -> bool:
    return actor in TRANSITIONS.get((src, dst), frozenset())


def check_move(src: PortOrderStatus, dst: PortOrderStatus, actor: Actor) -> None:
    if not can_move(src, dst, actor):
        raise PortingError(
            21822, f"Status invalid: {src.value} -> {dst.value} is not allowed", "status"
        )


def parse_status(value: str) -> PortOrderStatus:
    """Status values are accepted in any letter case; anything else is 21822."""
    try:
        return PortOrderStatus(value.strip().upper())
    except (ValueError, AttributeError):
        raise PortingError(21822, f"Status invalid: {value!r}", "status") from None


def parse_loa_status(value: str) -> LoaStatus:
    try:
        return LoaStatus(value.strip().lower())
    except (ValueError, AttributeError):
        raise PortingError(21904, f"LOA status invalid: {value!r}", "status") from None


def parse_request_status(value: str) -> PortRequestStatus:
    """A Port Request status in any letter case; anything else is 20001."""
    try:
        return PortRequestStatus(value.strip().upper())
    except (ValueError, AttributeError):
        allowed = ", ".join(s.value for s in PortRequestStatus)
        raise PortingError(
            20001, f"Status invalid: {value!r} (one of {allowed})", "status"
        ) from None


def update_refusal(status: PortOrderStatus) -> PortingError | None:
    if status in UPDATABLE:
        return None
    return PortingError(21829, f"Order can no longer be modified: it is {status.value}")


def binding_foc(status: PortOrderStatus, activation_date: datetime | None) -> datetime | None:
    """The FOC date that binds a cancel (CONTRACT.md §5): it exists once the carrier has the
    order; before that the requested activation date is only a wish."""
    return activation_date if status in (S.SUBMITTED, S.ACCEPTED, S.REVIEW) else None


def cancel_refusal(
    status: PortOrderStatus,
    port_type: PortType,
    foc_date: datetime | None,
    now: datetime,
) -> PortingError | None:
    """CONTRACT.md §5: why a customer's cancel is refused now, or None when it is allowed."""
    if status in TERMINAL:
        return PortingError(21830, f"Order can no longer be canceled: it is {status.value}")
    if port_type is PortType.MOBILE and status not in MOBILE_CANCELABLE:
        return PortingError(21832)
    if foc_date is not None and now >= foc_date - CANCEL_FOC_WINDOW:
        return PortingError(21833)
    return None


def allowed_actions(
    status: PortOrderStatus,
    port_type: PortType,
    foc_date: datetime | None,
    loa_status: LoaStatus,
    now: datetime,
) -> list[Action]:
    actions: list[Action] = []
    if update_refusal(status) is None:
        actions.append(Action.UPDATE)
    if cancel_refusal(status, port_type, foc_date, now) is None:
        actions.append(Action.CANCEL)
    if loa_status is LoaStatus.OPEN and status in (S.CREATED, S.PENDING):
        actions.append(Action.REQUEST_SIGNATURE)
    return actions


# --- LOA statuses -----------------------------------------------------------------------------
# An LOA is OPEN while orders may join it, SIGNING once its text went to the signer, SIGNED when
# signed; it is CANCELED by the service once every order it covers is canceled. (REVIEW is a
# status of the source document that no move reaches.)
L = LoaStatus
LOA_TRANSITIONS: dict[tuple[LoaStatus, LoaStatus], frozenset[Actor]] = {
    (L.OPEN, L.SIGNING): frozenset({Actor.CUSTOMER, Actor.OPERATOR}),
    (L.SIGNING, L.SIGNED): frozenset({Actor.CUSTOMER}),
    **{(src, L.CANCELED): frozenset({Actor.SERVICE}) for src in (L.OPEN, L.SIGNING, L.SIGNED)},
}


def loa_refusal(src: LoaStatus, dst: LoaStatus, actor: Actor) -> PortingError | None:
    """Why an LOA cannot move from `src` to `dst` for `actor`, or None when it can: 21905 when
    the signature was already requested, 21904 for any other move not in LOA_TRANSITIONS."""
    if actor in LOA_TRANSITIONS.get((src, dst), frozenset()):
        return None
    if dst is L.SIGNING and src in (L.SIGNING, L.SIGNED):
        return PortingError(21905)
    return PortingError(21904, f"LOA status invalid: it is {src.value}", "status")
