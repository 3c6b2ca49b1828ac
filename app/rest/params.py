"""Parameter names and values of the REST surface.

Body parameters: the source document's snake_case names and Twilio's PascalCase forms
(`IsoCountry`, `PostalCode`, `CcEmails`, ...) both map to the snake_case names the services
take. List filters (CONTRACT.md §8) are case-sensitive, as the document says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from starlette.datastructures import QueryParams

from app.porting import fields, requests
from app.porting.errors import PortingError
from app.porting.fields import Filter, pascal
from app.porting.statuses import (
    LoaStatus,
    PortOrderStatus,
    PortRequestStatus,
    parse_loa_status,
    parse_request_status,
    parse_status,
)
from app.rest.errors import invalid
from app.store.queries import LoaFilter, PortOrderFilter, PortRequestFilter

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

# --- body parameters --------------------------------------------------------------------------

_INPUTS = fields.inputs(fields.PORT_ORDER, create=True)
INPUT_FIELDS: tuple[str, ...] = tuple(f.name for f in _INPUTS)
LIST_FIELDS = frozenset(f.name for f in _INPUTS if f.kind == fields.TEXT_LIST)


def _names(snake: Iterable[str]) -> dict[str, str]:
    """Each parameter's snake_case name and its PascalCase form -> the snake_case name."""
    names = tuple(snake)
    return {**{pascal(n): n for n in names}, **{n: n for n in names}}


_NAMES = _names(INPUT_FIELDS)
# A Port Request's parameters (the shared values, `numbers`, `all_or_nothing`), and the keys of
# one `numbers` entry.
_REQUEST_NAMES = _names(requests.PARAMETERS)
_REQUEST_LISTS = frozenset({*LIST_FIELDS, requests.NUMBERS})
_NUMBER_NAMES = _names(requests.PER_NUMBER_NAMES)


def canonical(name: str) -> str | None:
    """The snake_case field a body parameter names, or None for a name we do not know."""
    return _NAMES.get(name)


def _storable(value: object, name: str) -> None:
    """Text a database can hold: no NUL character, no lone surrogate (from JSON `\\ud800`)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid(f"Parameter {name} contains a NUL character", name)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(f"Parameter {name} is not valid Unicode text", name) from None
    elif isinstance(value, list):
        for item in value:
            _storable(item, name)


def order_input(pairs: Iterable[tuple[str, Any]], *, form: bool) -> dict[str, object]:
    """Body pairs -> the raw dict of app/porting/validation.py. Unknown names are ignored.

    A field given twice (as `number` and `Number`, or a repeated form field) is refused,
    except `cc_emails`, whose repeated form fields make its list.
    """
    return _input(pairs, form, _NAMES, LIST_FIELDS)


def request_input(pairs: Iterable[tuple[str, Any]], *, form: bool) -> dict[str, object]:
    """A Port Request's body pairs -> the raw dict of app/porting/requests.py: as
    `order_input`, with `numbers` a list too (`Numbers=+1...&Numbers=+1...` in a form), each
    JSON object entry's keys read the same way (snake_case or PascalCase)."""
    raw = _input(pairs, form, _REQUEST_NAMES, _REQUEST_LISTS)
    entries = raw.get(requests.NUMBERS)
    if isinstance(entries, list):
        raw[requests.NUMBERS] = [_number_entry(e) for e in entries]
    return raw


def _number_entry(entry: object) -> object:
    if not isinstance(entry, dict):
        return entry
    out: dict[str, object] = {}
    for name, value in entry.items():
        key = _NUMBER_NAMES.get(name) if isinstance(name, str) else None
        if key is None:
            continue
        _storable(value, key)
        if key in out:
            raise invalid(f"Parameter {key} given more than once in one entry", requests.NUMBERS)
        out[key] = value
    return out


def _input(
    pairs: Iterable[tuple[str, Any]],
    form: bool,
    names: dict[str, str],
    list_fields: frozenset[str],
) -> dict[str, object]:
    raw: dict[str, object] = {}
    lists: dict[str, list[object]] = {}
    for name, value in pairs:
        field = names.get(name)
        if field is None:
            continue
        _storable(value, field)
        if form and field in list_fields:
            lists.setdefault(field, []).append(value)
            continue
        if field in raw or field in lists:
            raise invalid(f"Parameter {field} given more than once", field)
        raw[field] = value
    for field, values in lists.items():
        if field in raw:
            raise invalid(f"Parameter {field} given more than once", field)
        # `CcEmails=` (one empty value) clears the list.
        raw[field] = [v for v in values if not (isinstance(v, str) and not v.strip())]
    return raw


# --- query parameters ---------------------------------------------------------------------------


def _one(query: QueryParams, name: str) -> str | None:
    values = query.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(f"Parameter {name} given more than once", name)
    _storable(values[0], name)
    return values[0]


def _plus(value: str) -> str:
    """A `+` left unencoded in a query string arrives as a space: `Number=+1415...`."""
    stripped = value.strip()
    if value[:1] == " " and stripped[:1].isdigit():
        return "+" + stripped
    return stripped


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _unspace(value: str) -> str:
    """`2017-07-10T07:48:59 00:00`: the `+` of the offset arrived unencoded."""
    return value.strip().replace(" ", "+")


def _activation_bound(text: str, name: str, *, upper: bool) -> datetime:
    bad = PortingError(21814, f"{name} invalid: an ISO 8601 date, or a date-time with a zone", name)
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise bad from None
        start = datetime.combine(day, time(0, 0), tzinfo=UTC)
        return start + timedelta(days=1, microseconds=-1) if upper else start
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise bad from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise bad
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise bad from None


@dataclass(frozen=True)
class Paging:
    page_size: int = DEFAULT_PAGE_SIZE
    page: int = 0
    after_sid: str | None = None
    before_sid: str | None = None


def _int(value: str, name: str) -> int:
    text = value.strip()
    # isdigit() also admits superscripts and other digit-like characters; int() does not.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise invalid(f"{name} must be a non-negative integer", name)
    return int(text)


def paging(query: QueryParams) -> Paging:
    size_text = _one(query, "PageSize")
    page_text = _one(query, "Page")
    after = _one(query, "AfterSid")
    before = _one(query, "BeforeSid")
    size = DEFAULT_PAGE_SIZE if size_text is None else _int(size_text, "PageSize")
    if size < 1:
        raise invalid(f"PageSize must be between 1 and {MAX_PAGE_SIZE}", "PageSize")
    page = 0 if page_text is None else _int(page_text, "Page")
    for name, cursor in (("AfterSid", after), ("BeforeSid", before)):
        if cursor is not None and (refused := fields.cursor_refusal(cursor, name)) is not None:
            raise refused
    after = after.strip() if after is not None else None
    before = before.strip() if before is not None else None
    if after is not None and before is not None:
        raise invalid("Give AfterSid or BeforeSid, not both", "AfterSid")
    if page > 0 and after is None and before is None:
        raise invalid(
            "Page beyond 0 needs AfterSid or BeforeSid: follow next_page_url and "
            "previous_page_url (pages are keyset pages)",
            "Page",
        )
    return Paging(min(size, MAX_PAGE_SIZE), page, after, before)


# Filter name -> the filter (app/porting/fields.py), in the order of CONTRACT.md §8.
ORDER_FILTERS: dict[str, Filter] = {f.rest_name: f for f in fields.PORT_ORDER_FILTERS}
LOA_FILTERS: dict[str, Filter] = {f.rest_name: f for f in fields.LOA_FILTERS}
REQUEST_FILTERS: dict[str, Filter] = {f.rest_name: f for f in fields.PORT_REQUEST_FILTERS}

# Enum filters take any letter case; an unknown value is the enum's own contract code.
_ENUMS: dict[type[StrEnum], Callable[[str], StrEnum]] = {
    PortOrderStatus: parse_status,
    LoaStatus: parse_loa_status,
    PortRequestStatus: parse_request_status,
}


def _given(query: QueryParams, names: Iterable[str]) -> dict[str, str]:
    """The filters present with a non-empty value, by their (case-sensitive) names."""
    out: dict[str, str] = {}
    for name in names:
        value = _one(query, name)
        if value is not None and value.strip():
            out[name] = value
    return out


def _filter_values(
    query: QueryParams, filters: dict[str, Filter]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The query filter's values by attribute, and the filter parameters as given (for the
    page URLs, with the `+` an unencoded query string turned into a space put back)."""
    given = _given(query, filters)
    values: dict[str, Any] = {}
    for name, value in given.items():
        f = filters[name]
        kind = f.kind
        if kind.enum is not None:
            values[f.name] = _ENUMS[kind.enum](value).value
        elif kind == fields.DATETIME:
            given[name] = _unspace(value)
            values[f.name] = _activation_bound(given[name], name, upper=f.bound == "max")
        elif (refused := f.refusal(value, name)) is not None:
            raise refused
        elif kind == fields.E164:
            given[name] = values[f.name] = _plus(value)
        else:
            values[f.name] = value.strip()
    return values, given


def port_order_filter(query: QueryParams) -> tuple[PortOrderFilter, dict[str, str]]:
    """The filter, and the filter parameters as given (for the page URLs)."""
    values, given = _filter_values(query, ORDER_FILTERS)
    return PortOrderFilter(**values), given


def loa_filter(query: QueryParams) -> tuple[LoaFilter, dict[str, str]]:
    values, given = _filter_values(query, LOA_FILTERS)
    return LoaFilter(**values), given


def request_filter(query: QueryParams) -> tuple[PortRequestFilter, dict[str, str]]:
    values, given = _filter_values(query, REQUEST_FILTERS)
    return PortRequestFilter(**values), given


# --- headers -------------------------------------------------------------------------------------

IDEMPOTENCY_HEADERS = ("idempotency-key", "i-twilio-idempotency-token")
MAX_IDEMPOTENCY_KEY = 255


def idempotency_key(headers: Any) -> str | None:
    keys: set[str] = {headers[h].strip() for h in IDEMPOTENCY_HEADERS if h in headers}
    if not keys:
        return None
    if len(keys) > 1:
        raise invalid("Idempotency-Key and I-Twilio-Idempotency-Token differ", "Idempotency-Key")
    key = keys.pop()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise invalid(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters", "Idempotency-Key"
        )
    return key
