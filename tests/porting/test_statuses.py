"""The transition table of CONTRACT.md §4 and the guards of section 5, exhaustively.

The expected table is built here from the the contract's own rows (copied as text below), not from
`TRANSITIONS`, so a slip in either one shows up as a failing triple.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.porting.errors import PortingError
from app.porting.statuses import (
    TRANSITIONS,
    Action,
    Actor,
    LoaStatus,
    PortOrderStatus,
    PortType,
    allowed_actions,
    can_move,
    cancel_refusal,
    check_move,
    parse_loa_status,
    parse_status,
    update_refusal,
)

S = PortOrderStatus

# CONTRACT.md §4, row by row: "from -> to | who". "(new) -> CREATED" is not a move of an
# existing order and is left out.
SPEC_ROWS = """
CREATED -> PENDING | service
CREATED -> REJECTED | service/carrier
PENDING -> SUBMITTED | service
SUBMITTED -> ACCEPTED | carrier/operator
ACCEPTED -> COMPLETED | carrier/operator
SUBMITTED, ACCEPTED -> REJECTED | carrier/operator
any non-terminal -> FAILED | carrier/operator
any non-terminal -> REVIEW | carrier/operator
REVIEW -> PENDING, SUBMITTED, ACCEPTED, COMPLETED, REJECTED, FAILED | operator
any non-terminal -> CANCELED | customer
REJECTED -> PENDING | customer
"""
SPEC_NON_TERMINAL = "CREATED, PENDING, SUBMITTED, ACCEPTED, REJECTED, REVIEW"
SPEC_TERMINAL = "COMPLETED, CANCELED, FAILED"


def _statuses(text: str) -> list[PortOrderStatus]:
    if text.strip() == "any non-terminal":
        return [S(s.strip()) for s in SPEC_NON_TERMINAL.split(",")]
    return [S(s.strip()) for s in text.split(",")]


def _spec_table() -> set[tuple[PortOrderStatus, PortOrderStatus, Actor]]:
    allowed: set[tuple[PortOrderStatus, PortOrderStatus, Actor]] = set()
    for line in SPEC_ROWS.strip().splitlines():
        move, who = line.split("|")
        src, dst = move.split("->")
        actors = {Actor(a.strip()) for a in who.split("/")}
        if Actor.CARRIER in actors:  # "An operator may make any move a carrier may make."
            actors.add(Actor.OPERATOR)
        for a, b in itertools.product(_statuses(src), _statuses(dst)):
            if a is b:  # REVIEW -> REVIEW is not a move: the order is already there
                continue
            allowed |= {(a, b, actor) for actor in actors}
    return allowed


EXPECTED = _spec_table()
ALL_TRIPLES = list(itertools.product(S, S, Actor))


def test_status_partition_matches_the_spec() -> None:
    non_terminal = set(_statuses(SPEC_NON_TERMINAL))
    terminal = set(_statuses(SPEC_TERMINAL))
    assert non_terminal | terminal == set(S)
    assert not non_terminal & terminal
    # nothing leaves a terminal status
    assert not {(a, b) for a, b, _ in EXPECTED if a in terminal}


def test_expected_table_is_not_trivial() -> None:
    # a guard on the parser above: 9 statuses x 9 x 4 actors, a few dozen allowed
    assert len(ALL_TRIPLES) == 324
    assert (S.CREATED, S.PENDING, Actor.SERVICE) in EXPECTED
    assert (S.REVIEW, S.COMPLETED, Actor.OPERATOR) in EXPECTED
    assert (S.REVIEW, S.COMPLETED, Actor.CARRIER) not in EXPECTED
    assert (S.REJECTED, S.CANCELED, Actor.CUSTOMER) in EXPECTED
    # 1+3+1+2+2+4 named rows, 12 FAILED, 10 REVIEW, 5 more from REVIEW, 6 CANCELED, 1 REJECTED
    assert len(EXPECTED) == 47


@pytest.mark.parametrize(
    ("src", "dst", "actor"), ALL_TRIPLES, ids=[f"{a}-{b}-{c}" for a, b, c in ALL_TRIPLES]
)
def test_every_triple(src: PortOrderStatus, dst: PortOrderStatus, actor: Actor) -> None:
    expected = (src, dst, actor) in EXPECTED
    assert can_move(src, dst, actor) is expected
    if expected:
        check_move(src, dst, actor)
    else:
        with pytest.raises(PortingError) as info:
            check_move(src, dst, actor)
        assert info.value.code == 21822
        assert info.value.field == "status"


def test_table_holds_nothing_else() -> None:
    from_table = {(a, b, actor) for (a, b), actors in TRANSITIONS.items() for actor in actors}
    assert from_table == EXPECTED


@pytest.mark.parametrize("value", ["pending", "Pending", " PENDING ", "pEnDiNg"])
def test_parse_status_any_case(value: str) -> None:
    assert parse_status(value) is S.PENDING


@pytest.mark.parametrize("value", ["", "PEND", "delivered", "RECEIVED", "submitting"])
def test_parse_status_unknown_is_21822(value: str) -> None:
    with pytest.raises(PortingError) as info:
        parse_status(value)
    assert (info.value.code, info.value.field) == (21822, "status")


def test_parse_loa_status() -> None:
    assert parse_loa_status("SIGNED") is LoaStatus.SIGNED
    with pytest.raises(PortingError) as info:
        parse_loa_status("done")
    assert (info.value.code, info.value.field) == (21904, "status")


# --- update guard (CONTRACT.md §5) ----------------------------------------------------------------

UPDATABLE = {S.CREATED, S.PENDING, S.REJECTED}


@pytest.mark.parametrize("status", list(S))
def test_update_guard(status: PortOrderStatus) -> None:
    refusal = update_refusal(status)
    if status in UPDATABLE:
        assert refusal is None
    else:
        assert refusal is not None and refusal.code == 21829


# --- cancel guard (CONTRACT.md §5) ----------------------------------------------------------------

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FAR = NOW + timedelta(days=30)


@pytest.mark.parametrize("port_type", list(PortType))
@pytest.mark.parametrize("status", list(S))
def test_cancel_guard_without_foc(status: PortOrderStatus, port_type: PortType) -> None:
    refusal = cancel_refusal(status, port_type, None, NOW)
    if status in {S.COMPLETED, S.CANCELED, S.FAILED}:
        assert refusal is not None and refusal.code == 21830
    elif port_type is PortType.MOBILE and status not in {S.CREATED, S.PENDING}:
        assert refusal is not None and refusal.code == 21832
    else:
        assert refusal is None


@pytest.mark.parametrize(
    ("before_foc", "code"),
    [
        (timedelta(hours=48, seconds=1), None),
        (timedelta(hours=48), 21833),  # exactly 48 hours before: within the window
        (timedelta(hours=47, minutes=59, seconds=59), 21833),
        (timedelta(hours=1), 21833),
        (timedelta(0), 21833),
        (-timedelta(days=1), 21833),  # FOC already passed
    ],
)
def test_cancel_48_hour_boundary(before_foc: timedelta, code: int | None) -> None:
    refusal = cancel_refusal(S.SUBMITTED, PortType.LANDLINE, NOW + before_foc, NOW)
    assert (refusal.code if refusal else None) == code


def test_cancel_refusals_take_precedence_in_spec_order() -> None:
    soon = NOW + timedelta(hours=1)
    # terminal beats mobile and the FOC window
    refusal = cancel_refusal(S.COMPLETED, PortType.MOBILE, soon, NOW)
    assert refusal is not None and refusal.code == 21830
    # mobile after signing beats the FOC window
    refusal = cancel_refusal(S.ACCEPTED, PortType.MOBILE, soon, NOW)
    assert refusal is not None and refusal.code == 21832
    # a mobile order before signing still meets the FOC window
    refusal = cancel_refusal(S.PENDING, PortType.MOBILE, soon, NOW)
    assert refusal is not None and refusal.code == 21833


# --- allowed actions ------------------------------------------------------------------------


@pytest.mark.parametrize("loa_status", list(LoaStatus))
@pytest.mark.parametrize("port_type", [PortType.LANDLINE, PortType.MOBILE])
@pytest.mark.parametrize("status", list(S))
def test_allowed_actions_agree_with_the_guards(
    status: PortOrderStatus, port_type: PortType, loa_status: LoaStatus
) -> None:
    actions = allowed_actions(status, port_type, None, loa_status, NOW)
    assert (Action.UPDATE in actions) == (update_refusal(status) is None)
    assert (Action.CANCEL in actions) == (cancel_refusal(status, port_type, None, NOW) is None)
    signable = loa_status is LoaStatus.OPEN and status in {S.CREATED, S.PENDING}
    assert (Action.REQUEST_SIGNATURE in actions) == signable
    assert len(actions) == len(set(actions))


def test_allowed_actions_examples() -> None:
    open_ = LoaStatus.OPEN
    assert allowed_actions(S.PENDING, PortType.LANDLINE, None, open_, NOW) == [
        Action.UPDATE,
        Action.CANCEL,
        Action.REQUEST_SIGNATURE,
    ]
    assert allowed_actions(S.PENDING, PortType.LANDLINE, None, LoaStatus.SIGNING, NOW) == [
        Action.UPDATE,
        Action.CANCEL,
    ]
    assert allowed_actions(S.SUBMITTED, PortType.LANDLINE, FAR, LoaStatus.SIGNED, NOW) == [
        Action.CANCEL
    ]
    soon = NOW + timedelta(hours=10)
    assert allowed_actions(S.SUBMITTED, PortType.LANDLINE, soon, LoaStatus.SIGNED, NOW) == []
    assert allowed_actions(S.SUBMITTED, PortType.MOBILE, FAR, LoaStatus.SIGNED, NOW) == []
    assert allowed_actions(S.REJECTED, PortType.LANDLINE, None, LoaStatus.CANCELED, NOW) == [
        Action.UPDATE,
        Action.CANCEL,
    ]
    # CONTRACT.md §5: a MOBILE order cancels only while CREATED or PENDING
    assert allowed_actions(S.REJECTED, PortType.MOBILE, None, LoaStatus.CANCELED, NOW) == [
        Action.UPDATE
    ]
    for done in (S.COMPLETED, S.CANCELED, S.FAILED):
        assert allowed_actions(done, PortType.LANDLINE, None, LoaStatus.SIGNED, NOW) == []
