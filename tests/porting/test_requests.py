"""The rules of Port Requests (app/porting/requests.py): the derived status, and the numbers of
a create validated over the shared values."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from app.porting.carrier import Portability
from app.porting.errors import PortingError, PortingErrors
from app.porting.requests import (
    PortabilityResult,
    checked,
    counts_of,
    derive_status,
    parse_flag,
    read_numbers,
    refusal,
)
from app.porting.statuses import TERMINAL, PortOrderStatus, PortRequestStatus, PortType
from tests.builders import mobile_input, numbers, request_input

S = PortOrderStatus
R = PortRequestStatus


def status_of(*statuses: PortOrderStatus) -> PortRequestStatus:
    return derive_status(counts_of(s.value for s in statuses))


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        ((S.PENDING,), R.PENDING),
        ((S.CREATED, S.SUBMITTED), R.PENDING),
        ((S.PENDING, S.COMPLETED), R.PENDING),
        ((S.SUBMITTED, S.ACCEPTED), R.IN_PROGRESS),
        ((S.ACCEPTED, S.COMPLETED, S.CANCELED), R.IN_PROGRESS),
        ((S.PENDING, S.REJECTED), R.ACTION_REQUIRED),
        ((S.COMPLETED, S.REVIEW), R.ACTION_REQUIRED),
        ((S.COMPLETED, S.COMPLETED), R.COMPLETED),
        ((S.COMPLETED, S.CANCELED), R.PARTIALLY_COMPLETED),
        ((S.COMPLETED, S.FAILED), R.PARTIALLY_COMPLETED),
        ((S.CANCELED, S.CANCELED), R.CANCELED),
        ((S.CANCELED, S.FAILED), R.FAILED),
        ((S.FAILED,), R.FAILED),
    ],
)
def test_the_derived_status(orders: tuple[PortOrderStatus, ...], expected: R) -> None:
    assert status_of(*orders) is expected


def test_the_status_rules_hold_for_every_pair_of_orders() -> None:
    for pair in itertools.product(S, repeat=2):
        got = status_of(*pair)
        if S.REJECTED in pair or S.REVIEW in pair:
            assert got is R.ACTION_REQUIRED
        elif all(s in TERMINAL for s in pair):
            if set(pair) == {S.COMPLETED}:
                assert got is R.COMPLETED
            elif set(pair) == {S.CANCELED}:
                assert got is R.CANCELED
            else:
                assert got is (R.PARTIALLY_COMPLETED if S.COMPLETED in pair else R.FAILED)
        elif S.CREATED in pair or S.PENDING in pair:
            assert got is R.PENDING
        else:
            assert got is R.IN_PROGRESS
    with pytest.raises(ValueError):
        derive_status(counts_of([]))


def test_counts_name_every_status() -> None:
    assert counts_of(["PENDING", "PENDING", "COMPLETED"]) == {
        **{s.value: 0 for s in S},
        "PENDING": 2,
        "COMPLETED": 1,
    }


def test_each_number_is_validated_over_the_shared_values() -> None:
    a, b = numbers(2)
    own = {
        "number": b,
        "friendly_name": "Front desk",
        "billing_phone_number": "+14155550100",
        **{k: v for k, v in mobile_input().items() if k in ("port_type", "pin_number")},
        "account_number": "ACCT-1",
        "ssn_last_four": "1234",
        "city": "Elsewhere",  # not a per-number key: ignored
    }
    entries = read_numbers(request_input([a, own], billing_phone_number="+14155550199"), 1000)
    first, second = entries
    assert first.fields is not None and second.fields is not None
    assert (first.number, first.fields.billing_phone_number) == (a, "+14155550199")
    assert first.fields.port_type is PortType.UNKNOWN
    assert second.fields.friendly_name == "Front desk"
    assert second.fields.billing_phone_number == "+14155550100"  # its own value wins
    assert second.fields.port_type is PortType.MOBILE
    assert second.fields.city == "San Francisco"


def test_a_number_with_errors_is_left_out_with_them() -> None:
    a, b = numbers(2)
    raw = request_input(
        [a, "+1 415 555", {"number": b, "port_type": "MOBILE"}, {"friendly_name": "x"}, a, 7]
    )
    entries = read_numbers(raw, 1000)
    assert [e.fields is not None for e in entries] == [True, False, False, False, False, False]
    codes = [[(err.code, err.field) for err in e.errors] for e in entries]
    assert codes == [
        [],
        [(21812, "number")],
        [(21836, "account_number"), (21810, "pin_number")],
        [(21801, "number")],
        [(21839, "number")],  # the same number again: the first keeps it
        [(21812, "number")],
    ]
    assert [e.number for e in entries] == [a, "+1 415 555", b, None, a, "7"]
    located = refusal(entries).errors
    assert [(e.code, e.field) for e in located][:2] == [
        (21812, "numbers[1].number"),
        (21836, "numbers[2].account_number"),
    ]


@pytest.mark.parametrize(
    ("shared", "codes"),
    [
        ({"email": "not-an-email"}, [(21818, "email")]),
        ({"iso_country": ..., "street": ""}, [(21802, "iso_country"), (21806, "street")]),
        ({"postal_code": "10001"}, [(21834, "postal_code")]),  # a New York ZIP in CA
        ({"billing_phone_number": "123"}, [(21815, "billing_phone_number")]),
    ],
)
def test_an_error_in_a_shared_value_refuses_the_whole_request(
    shared: dict[str, Any], codes: list[tuple[int, str]]
) -> None:
    with pytest.raises(PortingErrors) as info:
        read_numbers(request_input(numbers(2), **shared), 1000)
    assert [(e.code, e.field) for e in info.value.errors] == codes


@pytest.mark.parametrize(
    ("entries", "code"),
    [(None, 21840), ([], 21840), ("", 21840), ("+14155552671", 20001), ({"a": 1}, 20001)],
)
def test_no_numbers_is_refused(entries: Any, code: int) -> None:
    raw = request_input() if entries is None else request_input(entries)
    if entries is None:
        raw.pop("numbers")
    with pytest.raises(PortingError) as info:
        read_numbers(raw, 1000)
    assert (info.value.code, info.value.field) == (code, "numbers")


def test_at_most_the_maximum() -> None:
    assert len(read_numbers(request_input(numbers(5)), 5)) == 5
    with pytest.raises(PortingError) as info:
        read_numbers(request_input(numbers(6)), 5)
    assert info.value.code == 21841
    assert "6 (at most 5)" in info.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), (True, True), (False, False), ("TRUE", True), ("false", False)],
)
def test_all_or_nothing_is_a_boolean(value: object, expected: bool) -> None:
    assert parse_flag(value, "all_or_nothing") is expected


@pytest.mark.parametrize("value", ["yes", 1, 0, [], "1"])
def test_all_or_nothing_refuses_anything_else(value: object) -> None:
    with pytest.raises(PortingError) as info:
        parse_flag(value, "all_or_nothing")
    assert (info.value.code, info.value.field) == (20001, "all_or_nothing")


def test_a_portability_result_names_the_reason() -> None:
    carrier = Portability(True, "Sandbox Mobile")
    assert checked("+14155552671", carrier, None) == PortabilityResult(
        "+14155552671", True, PortType.UNKNOWN, "Sandbox Mobile", False, None, None
    )
    held = checked("+14155552671", carrier, 21838)
    assert (held.portable, held.not_portable_reason_code) == (False, 21838)
    assert held.not_portable_reason == "Number already in our inventory"
    refused = checked("+14155230001", Portability(False, "X", 21827, "no"), None)
    assert (refused.portable, refused.not_portable_reason_code, refused.not_portable_reason) == (
        False,
        21827,
        "no",
    )
    mobile = checked("+447400123456", carrier, None)
    assert (mobile.port_type, mobile.pin_and_account_number_required) == (PortType.MOBILE, True)
