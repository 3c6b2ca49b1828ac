"""Rows -> the JSON of the source document (CONTRACT.md §2, 3 and 8).

The keys are the REST fields of app/porting/fields.py, in their order: a write-only value
(ssn_last_four, account_number, pin_number) is no REST field, so it never reaches a response.
Absent values are `null`, times are ISO 8601 UTC, `url`s are absolute (PORTICO_PUBLIC_URL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from app.config import Settings
from app.porting import fields
from app.porting.isotime import format_utc
from app.rest.params import Paging
from app.store.queries import Page
from app.store.tables import Loa, PortOrder, PortOrderError

ORDERS_PATH = "/porting/PortOrders"
LOAS_PATH = "/porting/Loas"

# How a plain value of each kind is written (the others as they are).
_CONVERT: dict[str, Callable[[Any], Any]] = {"datetime": format_utc, "text_list": list}

# (key, computed, conversion or None) per REST field.
_Key = tuple[str, bool, Callable[[Any], Any] | None]


def _keys(declared: tuple[fields.Field, ...]) -> tuple[_Key, ...]:
    return tuple(
        (f.name, f.computed, _CONVERT.get(f.kind.name)) for f in fields.rest_fields(declared)
    )


_ORDER_KEYS = _keys(fields.PORT_ORDER)
_LOA_KEYS = _keys(fields.LOA)

# The instance fields, in the order of CONTRACT.md §2 (the OpenAPI document lists the same).
PORT_ORDER_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _ORDER_KEYS)
LOA_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _LOA_KEYS)


def _document(row: object, keys: Sequence[_Key], computed: Mapping[str, Any]) -> dict[str, Any]:
    """Every REST field of the row, in order; the computed ones (url, errors) as given."""
    out: dict[str, Any] = {}
    for name, is_computed, convert in keys:
        if is_computed:
            out[name] = computed[name]
        else:
            value = getattr(row, name)
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


def loa_page(
    settings: Settings, filters: Mapping[str, str], paging: Paging, page: Page[Loa]
) -> dict[str, Any]:
    return {
        "meta": meta(settings, LOAS_PATH, "loas", filters, paging, page, lambda x: x.sid),
        "loas": [loa(x, settings) for x in page.items],
    }
