"""Rows -> the JSON of the source document (CONTRACT.md §2, 3 and 8).

The keys are the REST fields of app/porting/fields.py, in their order: a write-only value
(ssn_last_four, account_number, pin_number) is no REST field, so it never reaches a response.
Absent values are `null`, times are ISO 8601 UTC, `url`s are absolute (PORTICO_PUBLIC_URL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from functools import partial
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import Row

from app.config import Settings
from app.porting import fields, requests
from app.porting.isotime import format_utc
from app.porting.requests import NumberResult, PortabilityResult
from app.rest.params import Paging
from app.services.reads import RequestView
from app.store.queries import Page
from app.store.tables import Loa, PortOrder, PortOrderError, PortRequest

ORDERS_PATH = "/porting/PortOrders"
LOAS_PATH = "/porting/Loas"
REQUESTS_PATH = "/porting/PortRequests"

# How a plain value of each kind is written (the others as they are).
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "datetime": format_utc,
    "text_list": list,
    "counts": requests.all_counts,
}

# (key, computed, conversion or None) per REST field.
_Key = tuple[str, bool, Callable[[Any], Any] | None]


def _keys(declared: tuple[fields.Field, ...]) -> tuple[_Key, ...]:
    return tuple(
        (f.name, f.computed, _CONVERT.get(f.kind.name)) for f in fields.rest_fields(declared)
    )


_ORDER_KEYS = _keys(fields.PORT_ORDER)
_LOA_KEYS = _keys(fields.LOA)
_REQUEST_KEYS = _keys(fields.PORT_REQUEST)
_REQUEST_LISTED = tuple(
    k
    for k, f in zip(_REQUEST_KEYS, fields.rest_fields(fields.PORT_REQUEST), strict=True)
    if f.listed
)

# The instance fields, in the order of CONTRACT.md §2 (the OpenAPI document lists the same).
PORT_ORDER_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _ORDER_KEYS)
LOA_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _LOA_KEYS)
PORT_REQUEST_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _REQUEST_KEYS)
PORT_REQUEST_LIST_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _REQUEST_LISTED)
# The keys of one entry of a Port Request's `numbers`, and of a portability check's `results`.
NUMBER_FIELDS = ("number", "port_order_sid", "status", "errors")
PORTABILITY_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclass_fields(PortabilityResult))


def _document(row: object, keys: Sequence[_Key], computed: Mapping[str, Any]) -> dict[str, Any]:
    """Every REST field of the row, in order; the computed ones (url, errors) as given."""
    out: dict[str, Any] = {}
    # A read-only row (app/store/queries.py, rows=True) reads fastest by key.
    read: Callable[[str], Any] = (
        row._mapping.__getitem__ if isinstance(row, Row) else partial(getattr, row)
    )
    for name, is_computed, convert in keys:
        if is_computed:
            out[name] = computed[name]
        else:
            value = read(name)
            out[name] = value if convert is None else convert(value)
    return out


def port_order(
    order: PortOrder, errors: Sequence[PortOrderError], settings: Settings
) -> dict[str, Any]:
    computed = {
        "errors": [
            {"code": e.code, "date": format_utc(e.date), "reason": e.reason} for e in errors
        ],
        "url": settings.url_for(f"{ORDERS_PATH}/{order.sid}"),
    }
    return _document(order, _ORDER_KEYS, computed)


def loa(row: Loa, settings: Settings) -> dict[str, Any]:
    return _document(row, _LOA_KEYS, {"url": settings.url_for(f"{LOAS_PATH}/{row.sid}")})


def number_result(n: NumberResult) -> dict[str, Any]:
    return {
        "number": n.number,
        "port_order_sid": n.port_order_sid,
        "status": n.status.value if n.status is not None else None,
        "errors": [{"code": e.code, "message": e.message} for e in n.errors],
    }


def port_request(view: RequestView, settings: Settings) -> dict[str, Any]:
    """The instance (with `numbers`), or a list entry (`view.numbers` None: without)."""
    row: PortRequest = view.row
    computed: dict[str, Any] = {
        "loa_sids": list(view.loa_sids),
        "url": settings.url_for(f"{REQUESTS_PATH}/{row.sid}"),
    }
    if view.numbers is None:
        return _document(row, _REQUEST_LISTED, computed)
    computed["numbers"] = [number_result(n) for n in view.numbers]
    return _document(row, _REQUEST_KEYS, computed)


def portability(results: Sequence[PortabilityResult]) -> dict[str, Any]:
    return {
        "results": [
            {
                **{name: getattr(r, name) for name in PORTABILITY_FIELDS},
                "port_type": r.port_type.value if r.port_type is not None else None,
            }
            for r in results
        ]
    }


def _url(settings: Settings, path: str, params: Mapping[str, str | int]) -> str:
    return settings.url_for(path) + "?" + urlencode(list(params.items()))


def meta(
    settings: Settings,
    path: str,
    key: str,
    filters: Mapping[str, str],
    paging: Paging,
    page: Page[Any],
    sid_of: Any,
) -> dict[str, Any]:
    """Twilio's `meta` block. next/previous pages are keyset pages (AfterSid/BeforeSid);
    `page` is a label that counts the steps taken from the first page."""
    base: dict[str, str | int] = {**filters, "PageSize": paging.page_size}

    def at(page_no: int, cursor: tuple[str, str] | None) -> str:
        params: dict[str, str | int] = {**base, "Page": page_no}
        if cursor is not None:
            params[cursor[0]] = cursor[1]
        return _url(settings, path, params)

    current: tuple[str, str] | None = None
    if paging.after_sid is not None:
        current = ("AfterSid", paging.after_sid)
    elif paging.before_sid is not None:
        current = ("BeforeSid", paging.before_sid)
    items = page.items
    # Rows older than this page exist: always after a backward page (we came from there).
    older = page.has_more if not page.backward else bool(items)
    # Rows newer than this page exist: after any forward page that started at a cursor.
    newer = page.has_more if page.backward else paging.after_sid is not None
    next_url = at(paging.page + 1, ("AfterSid", sid_of(items[-1]))) if older and items else None
    prev_url = (
        at(max(paging.page - 1, 0), ("BeforeSid", sid_of(items[0]))) if newer and items else None
    )
    return {
        "page": paging.page,
        "page_size": paging.page_size,
        "first_page_url": at(0, None),
        "previous_page_url": prev_url,
        "url": at(paging.page, current),
        "next_page_url": next_url,
        "key": key,
    }


def port_order_page(
    settings: Settings,
    filters: Mapping[str, str],
    paging: Paging,
    page: Page[PortOrder],
    errors: Mapping[str, Sequence[PortOrderError]],
) -> dict[str, Any]:
    return {
        "meta": meta(settings, ORDERS_PATH, "orders", filters, paging, page, lambda o: o.sid),
        "orders": [port_order(o, errors.get(o.sid, ()), settings) for o in page.items],
    }


def port_request_page(
    settings: Settings,
    filters: Mapping[str, str],
    paging: Paging,
    page: Page[PortRequest],
    loa_sids: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    views = [RequestView(r, None, list(loa_sids.get(r.sid, ()))) for r in page.items]
    return {
        "meta": meta(
            settings, REQUESTS_PATH, "port_requests", filters, paging, page, lambda r: r.sid
        ),
        "port_requests": [port_request(v, settings) for v in views],
    }


def loa_page(
    settings: Settings, filters: Mapping[str, str], paging: Paging, page: Page[Loa]
) -> dict[str, Any]:
    return {
        "meta": meta(settings, LOAS_PATH, "loas", filters, paging, page, lambda x: x.sid),
        "loas": [loa(x, settings) for x in page.items],
    }
