"""Port Requests (CONTRACT.md §11): many numbers in one request, each its own Port Order.

- `derive_status`: a request's status is a function of its orders' statuses, nothing else.
- `read_numbers`: the numbers of a create, each validated as the create of one Port Order
  (`validate_create`) on the shared values merged with its own (its own win). An error in a
  shared value refuses the whole request; a number's own errors leave that number out.
- `NumberResult`: what became of one number (its order, or why it has none).
- `read_check_numbers` and `PortabilityResult`: a portability check of many numbers.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.porting import fields
from app.porting.carrier import Portability
from app.porting.errors import PortingError, PortingErrors
from app.porting.fields import PLAIN
from app.porting.statuses import PortOrderStatus, PortRequestStatus, PortType
from app.porting.validation import (
    PortOrderFields,
    detect_port_type,
    refused_text,
    to_e164,
    validate_create,
)

S = PortOrderStatus
R = PortRequestStatus

NUMBERS = "numbers"
ALL_OR_NOTHING = "all_or_nothing"
SHARED_NAMES: frozenset[str] = frozenset(f.name for f in fields.SHARED)
PER_NUMBER_NAMES: tuple[str, ...] = tuple(f.name for f in fields.PER_NUMBER)
# The request's own parameters (besides the shared values): what a transport passes on.
PARAMETERS: tuple[str, ...] = (*(f.name for f in fields.SHARED), NUMBERS, ALL_OR_NOTHING)

CREATED_EVENT = "port_request.created"
STATUS_CHANGED = "port_request.status_changed"
CALLBACK_TYPE = "port_request_status_update"


# --- the derived status -----------------------------------------------------------------------


def counts_of(statuses: Iterable[str]) -> dict[str, int]:
    """Orders per status: every status, in the table's order, zeros included."""
    out = {s.value: 0 for s in S}
    for status in statuses:
        out[S(status).value] += 1
    return out


def all_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """`counts` with every status, in the table's order (a missing one is 0)."""
    return {s.value: int(counts.get(s.value, 0)) for s in S}


def derive_status(counts: Mapping[str, int]) -> PortRequestStatus:
    """CONTRACT.md §11: ACTION_REQUIRED while any order is REJECTED or in REVIEW; once every
    order is terminal, COMPLETED (all completed), CANCELED (all canceled), PARTIALLY_COMPLETED
    (some completed) or FAILED; before that PENDING while some wait for a signature, else
    IN_PROGRESS."""

    def n(*statuses: PortOrderStatus) -> int:
        return sum(counts.get(s.value, 0) for s in statuses)

    total = n(*S)
    if total == 0:
        raise ValueError("a port request has at least one order")
    if n(S.REJECTED, S.REVIEW):
        return R.ACTION_REQUIRED
    if n(S.COMPLETED, S.CANCELED, S.FAILED) == total:
        if n(S.COMPLETED) == total:
            return R.COMPLETED
        if n(S.CANCELED) == total:
            return R.CANCELED
        return R.PARTIALLY_COMPLETED if n(S.COMPLETED) else R.FAILED
    if n(S.CREATED, S.PENDING):
        return R.PENDING
    return R.IN_PROGRESS


# --- the numbers of a create -----------------------------------------------------------------


def entry_field(index: int, name: str | None) -> str:
    """Where an error of one number points: `numbers[3].pin_number`."""
    return f"{NUMBERS}[{index}].{name}" if name else f"{NUMBERS}[{index}]"


@dataclass(frozen=True)
class NumberEntry:
    """One number of a create: its validated fields, or the errors that leave it out (their
    `field` names a key of the entry: `number`, `pin_number`, ...)."""

    index: int
    number: str | None  # E.164 when valid, else the text given
    fields: PortOrderFields | None
    errors: tuple[PortingError, ...] = ()

    def refused(self, *errors: PortingError) -> NumberEntry:
        return NumberEntry(self.index, self.number, None, (*self.errors, *errors))

    def located(self) -> list[PortingError]:
        """The errors with their place in the request (`numbers[3].number`)."""
        return [
            PortingError(e.code, e.message, entry_field(self.index, e.field)) for e in self.errors
        ]


def parse_flag(value: object, name: str) -> bool:
    """A boolean parameter: JSON true/false, or the text `true`/`false` (form); absent: false."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PortingError(20001, f"{name} must be true or false", name)


def _entries(raw: Mapping[str, object], max_numbers: int) -> Sequence[object]:
    entries = raw.get(NUMBERS)
    if entries is None or entries == "" or entries == [] or entries == ():
        raise PortingError(21840, field=NUMBERS)
    if not isinstance(entries, list | tuple):
        raise PortingError(20001, "numbers must be a list", NUMBERS)
    if len(entries) > max_numbers:
        raise PortingError(
            21841,
            f"Too many numbers in one port request: {len(entries)} (at most {max_numbers})",
            NUMBERS,
        )
    return entries


def _own(entry: object) -> dict[str, object]:
    """A number's own values: an E.164 string, or an object of the per-number keys (others
    are ignored, as unknown parameters are)."""
    if isinstance(entry, Mapping):
        return {k: v for k, v in entry.items() if k in PER_NUMBER_NAMES}
    return {"number": entry}


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def check_shared(shared: Mapping[str, object]) -> None:
    """Refuse the request (PortingErrors, every one) when a shared value is invalid."""
    try:
        validate_create(shared)
    except PortingErrors as exc:
        errors = [e for e in exc.errors if e.field in SHARED_NAMES]
        if errors:
            raise PortingErrors(errors) from None


def read_numbers(raw: Mapping[str, object], max_numbers: int) -> list[NumberEntry]:
    """The numbers of a create (`raw`: the request's parameters), in the order given, each
    validated over the shared values. Refuses the whole request (nothing to store) for no
    numbers (21840), more than `max_numbers` (21841) or an invalid shared value. A number
    given again is left out with 21839 (the first keeps it)."""
    entries = _entries(raw, max_numbers)
    shared = {k: v for k, v in raw.items() if k in SHARED_NAMES}
    check_shared(shared)
    out: list[NumberEntry] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        own = _own(entry)
        try:
            f = validate_create({**shared, **own})
        except PortingErrors as exc:
            given = own.get("number")
            out.append(NumberEntry(index, to_e164_or_text(given), None, tuple(exc.errors)))
            continue
        if f.number in seen:
            out.append(NumberEntry(index, f.number, None, (PortingError(21839, field="number"),)))
            continue
        seen.add(f.number)
        out.append(NumberEntry(index, f.number, f))
    return out


NUMBER_MAX_LENGTH = 32


def to_e164_or_text(value: object) -> str | None:
    """What a request shows of a number given (kept in its `numbers`): the E.164 form, else
    the text as given, unless that is too long or holds control characters (then nothing)."""
    text = _text(value)
    if text is None or refused_text(text, NUMBER_MAX_LENGTH, PLAIN) is not None:
        return None
    return to_e164(text) or text


def refusal(entries: Sequence[NumberEntry]) -> PortingErrors:
    """The whole request refused for its numbers' errors: every one, located."""
    return PortingErrors(e for entry in entries for e in entry.located())


# --- what became of each number -------------------------------------------------------------


@dataclass(frozen=True)
class NumberError:
    code: int
    message: str


@dataclass(frozen=True)
class NumberResult:
    """One number of a request: its order (and the order's status), or none and why."""

    number: str | None
    port_order_sid: str | None
    status: PortOrderStatus | None
    errors: tuple[NumberError, ...] = ()


def stored_entry(entry: NumberEntry, port_order_sid: str | None) -> dict[str, Any]:
    """How a request keeps one of its numbers (the `numbers` column, in input order)."""
    return {
        "number": entry.number,
        "port_order_sid": port_order_sid,
        "errors": [{"code": e.code, "message": e.message} for e in entry.errors],
    }


def stored_errors(entry: Mapping[str, Any]) -> tuple[NumberError, ...]:
    return tuple(
        NumberError(int(e["code"]), str(e.get("message") or "")) for e in entry.get("errors") or []
    )


# --- portability checks -------------------------------------------------------------------------


@dataclass(frozen=True)
class PortabilityResult:
    """One number of a portability check (CONTRACT.md §11)."""

    number: str | None
    portable: bool
    port_type: PortType | None
    current_carrier: str | None
    pin_and_account_number_required: bool
    not_portable_reason_code: int | None
    not_portable_reason: str | None


def read_check_numbers(
    raw: Mapping[str, object], max_numbers: int
) -> list[tuple[object, str | None]]:
    """The numbers of a portability check: each as given, and as E.164 (None: not valid)."""
    return [(e, to_e164(t) if (t := _text(e)) else None) for e in _entries(raw, max_numbers)]


def invalid_number(given: object) -> PortabilityResult:
    error = PortingError(21812)
    return PortabilityResult(_text(given), False, None, None, False, error.code, error.message)


def checked(number: str, p: Portability, held: int | None) -> PortabilityResult:
    """The carrier's answer for a valid number; `held`: 21837 / 21838 when the number is in
    an open order or in an inventory already (no order could be created for it)."""
    port_type = detect_port_type(number)
    code = held if held is not None else (None if p.portable else (p.error_code or 21827))
    reason: str | None = None
    if code is not None:
        reason = (p.reason if held is None else None) or PortingError(code).message
    return PortabilityResult(
        number,
        code is None,
        port_type,
        p.current_carrier,
        port_type is PortType.MOBILE,
        code,
        reason,
    )
