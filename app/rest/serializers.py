"""Rows -> the JSON of the source document (CONTRACT.md §2, 3 and 8).

Every field is written explicitly: a field not listed here cannot reach a response, so the
write-only values (ssn_last_four, account_number, pin_number) never do. Absent values are
`null`, times are ISO 8601 UTC, `url`s are absolute (PORTICO_PUBLIC_URL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from app.config import Settings
from app.porting.isotime import format_utc
from app.rest.params import Paging
from app.store.queries import Page
from app.store.tables import Loa, PortOrder, PortOrderError

ORDERS_PATH = "/porting/PortOrders"
LOAS_PATH = "/porting/Loas"

# The instance fields, in the order of CONTRACT.md §2 (the OpenAPI document lists the same).
PORT_ORDER_FIELDS: tuple[str, ...] = (
    "sid",
    "account_sid",
    "number",
    "friendly_name",
    "status",
    "port_type",
    "date_created",
    "date_updated",
    "loa_sid",
    "iso_country",
    "region",
    "city",
    "postal_code",
    "street",
    "company_name",
    "first_name",
    "last_name",
    "email",
    "status_updates_email",
    "billing_phone_number",
    "activation_date",
    "earliest_activation_date",
    "submitted_date",
    "current_carrier",
    "incoming_phone_number_sid",
    "status_callback",
    "cc_emails",
    "reason_code",
    "reason",
    "errors",
    "provider_sid",
    "zendesk_id",
    "url",
)
LOA_FIELDS: tuple[str, ...] = (
    "sid",
    "account_sid",
    "status",
    "first_name",
    "last_name",
    "email",
    "date_created",
    "date_updated",
    "url",
)


def port_order(
    order: PortOrder, errors: Sequence[PortOrderError], settings: Settings
) -> dict[str, Any]:
    return {
        "sid": order.sid,
        "account_sid": order.account_sid,
        "number": order.number,
        "friendly_name": order.friendly_name,
        "status": order.status,
        "port_type": order.port_type,
        "date_created": format_utc(order.date_created),
        "date_updated": format_utc(order.date_updated),
        "loa_sid": order.loa_sid,
        "iso_country": order.iso_country,
        "region": order.region,
        "city": order.city,
        "postal_code": order.postal_code,
        "street": order.street,
        "company_name": order.company_name,
        "first_name": order.first_name,
        "last_name": order.last_name,
        "email": order.email,
        "status_updates_email": order.status_updates_email,
        "billing_phone_number": order.billing_phone_number,
        "activation_date": format_utc(order.activation_date),
        "earliest_activation_date": format_utc(order.earliest_activation_date),
        "submitted_date": format_utc(order.submitted_date),
        "current_carrier": order.current_carrier,
        "incoming_phone_number_sid": order.incoming_phone_number_sid,
        "status_callback": order.status_callback,
        "cc_emails": list(order.cc_emails),
        "reason_code": order.reason_code,
        "reason": order.reason,
        "errors": [
            {"code": e.code, "date": format_utc(e.date), "reason": e.reason} for e in errors
        ],
        "provider_sid": order.provider_sid,
        "zendesk_id": order.zendesk_id,
        "url": settings.url_for(f"{ORDERS_PATH}/{order.sid}"),
    }


def loa(row: Loa, settings: Settings) -> dict[str, Any]:
    return {
        "sid": row.sid,
        "account_sid": row.account_sid,
        "status": row.status,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "email": row.email,
        "date_created": format_utc(row.date_created),
        "date_updated": format_utc(row.date_updated),
        "url": settings.url_for(f"{LOAS_PATH}/{row.sid}"),
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


def loa_page(
    settings: Settings, filters: Mapping[str, str], paging: Paging, page: Page[Loa]
) -> dict[str, Any]:
    return {
        "meta": meta(settings, LOAS_PATH, "loas", filters, paging, page, lambda x: x.sid),
        "loas": [loa(x, settings) for x in page.items],
    }
