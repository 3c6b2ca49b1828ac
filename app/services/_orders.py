"""Internals shared by the order use cases: claiming a row, moving a status, writing events,
choosing the LOA. Every function here runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from app.delivery import plan as delivery_plan
from app.events import log
from app.porting import sids
from app.porting.errors import PortingError
from app.porting.isotime import format_utc
from app.porting.statuses import TERMINAL, Actor, LoaStatus, PortOrderStatus, check_move
from app.porting.validation import WRITE_ONLY, PortOrderFields
from app.services.context import Services
from app.store import queries
from app.store.engine import Tx
from app.store.tables import Event, Loa, PortOrder, PortOrderError

STATUS_UPDATE = "status_update"
ACTIVATION_DATE_UPDATE = "activation_date_update"


async def claim(tx: Tx, row: PortOrder | Loa) -> None:
    """Optimistic concurrency: bump the row's version if nobody changed it since we read it.
    On PostgreSQL the UPDATE also locks the row until commit. A lost race is 20409."""
    model = type(row)
    result = await tx.execute(
        update(model)
        .where(model.id == row.id, model.version == row.version)  # type: ignore[arg-type]
        .values(version=row.version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PortingError(20409)
    set_committed_value(row, "version", row.version + 1)


def group_key(account_sid: str, f: PortOrderFields) -> str:
    """One LOA covers the open orders of one account sharing signer, email, address, type."""
    parts = [
        account_sid,
        f.first_name.casefold(),
        f.last_name.casefold(),
        f.email.casefold(),
        f.iso_country,
        f.region.casefold(),
        f.city.casefold(),
        f.postal_code.casefold(),
        " ".join(f.street.casefold().split()),
        f.port_type.value,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


async def attach_loa(
    tx: Tx, svc: Services, account_sid: str, f: PortOrderFields, now: datetime
) -> Loa:
    key = group_key(account_sid, f)
    loa = await queries.open_loa_for_group(tx, key)
    if loa is not None:
        return loa
    loa = Loa(
        sid=sids.mint(sids.LOA),
        account_sid=account_sid,
        status=LoaStatus.OPEN.value,
        first_name=f.first_name,
        last_name=f.last_name,
        email=f.email,
        company_name=f.company_name,
        iso_country=f.iso_country,
        region=f.region,
        city=f.city,
        postal_code=f.postal_code,
        street=f.street,
        port_type=f.port_type.value,
        open_group_key=key,
        date_created=now,
        date_updated=now,
    )
    tx.add(loa)
    await tx.flush()
    return loa


def fields_of(order: PortOrder, svc: Services) -> PortOrderFields:
    secret = svc.cipher.decrypt_json(order.secrets_enc) if order.secrets_enc else {}
    from app.porting.statuses import PortType

    return PortOrderFields(
        number=order.number,
        port_type=PortType(order.port_type),
        friendly_name=order.friendly_name,
        iso_country=order.iso_country,
        region=order.region,
        city=order.city,
        postal_code=order.postal_code,
        street=order.street,
        first_name=order.first_name,
        last_name=order.last_name,
        email=order.email,
        company_name=order.company_name,
        status_updates_email=order.status_updates_email,
        billing_phone_number=order.billing_phone_number,
        activation_date=order.activation_date,
        status_callback=order.status_callback,
        cc_emails=list(order.cc_emails),
        **{k: secret.get(k) for k in WRITE_ONLY},
    )


def apply_fields(order: PortOrder, f: PortOrderFields, svc: Services) -> None:
    for name in (
        "number",
        "friendly_name",
        "iso_country",
        "region",
        "city",
        "postal_code",
        "street",
        "first_name",
        "last_name",
        "email",
        "company_name",
        "status_updates_email",
        "billing_phone_number",
        "activation_date",
        "status_callback",
    ):
        setattr(order, name, getattr(f, name))
    order.port_type = f.port_type.value
    order.cc_emails = list(f.cc_emails)
    secret = {k: v for k in WRITE_ONLY if (v := getattr(f, k)) is not None}
    order.secrets_enc = svc.cipher.encrypt_json(secret) if secret else None


def order_payload(
    order: PortOrder, errors: list[PortOrderError], callback_types: list[str]
) -> dict[str, Any]:
    """The status callback payload of SPEC section 9 (also the event's payload)."""
    return {
        "port_order_sid": order.sid,
        "callback_type": callback_types,
        "status": order.status,
        "foc_date": format_utc(order.activation_date),
        "date_updated": format_utc(order.date_updated),
        "phone_number_sid": order.incoming_phone_number_sid,
        "errors": [
            {"date": format_utc(e.date), "code": e.code, "reason": e.reason} for e in errors
        ],
    }


async def record_order_event(
    tx: Tx,
    svc: Services,
    order: PortOrder,
    type: str,
    callback_types: list[str],
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> Event:
    await tx.flush()
    errors = (await queries.errors_by_order(tx, [order.sid]))[order.sid]
    payload = order_payload(order, errors, callback_types)
    if extra:
        payload.update(extra)
    event = await log.append(
        tx,
        resource_type="port_order",
        resource_sid=order.sid,
        account_sid=order.account_sid,
        type=type,
        payload=payload,
        actor=actor,
        actor_sid=actor_sid,
        now=now,
    )
    # notify: queue the callback and mails this event implies, in this same transaction.
    await delivery_plan.queue_order_event(tx, event, order)
    return event


async def record_loa_event(
    tx: Tx, loa: Loa, actor: Actor, actor_sid: str | None, now: datetime
) -> Event:
    await tx.flush()
    payload = {"loa_sid": loa.sid, "status": loa.status, "date_updated": format_utc(now)}
    event = await log.append(
        tx,
        resource_type="loa",
        resource_sid=loa.sid,
        account_sid=loa.account_sid,
        type="loa.status_changed",
        payload=payload,
        actor=actor,
        actor_sid=actor_sid,
        now=now,
    )
    # notify: queue the signature-request mail this event implies, in this same transaction.
    await delivery_plan.queue_loa_event(tx, event, loa)
    return event


async def move(
    tx: Tx,
    svc: Services,
    order: PortOrder,
    dst: PortOrderStatus,
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
    *,
    reason_code: int | None = None,
    reason: str | None = None,
    error_code: int | None = None,
    foc_changed: bool = False,
) -> Event:
    """Move an order along the transition table and record the event. 21822 when refused."""
    check_move(PortOrderStatus(order.status), dst, actor)
    order.status = dst.value
    order.date_updated = now
    if reason_code is not None or reason is not None:
        order.reason_code, order.reason = reason_code, reason
    if dst in TERMINAL:
        order.active_number = None
    if error_code is not None:
        tx.add(
            PortOrderError(
                port_order_sid=order.sid,
                code=error_code,
                reason=reason or PortingError(error_code).message,
                date=now,
            )
        )
    types = [STATUS_UPDATE] + ([ACTIVATION_DATE_UPDATE] if foc_changed else [])
    return await record_order_event(
        tx, svc, order, "port_order.status_changed", types, actor, actor_sid, now
    )


async def cancel_loa_if_done(
    tx: Tx, loa_sid: str, actor: Actor, actor_sid: str | None, now: datetime
) -> None:
    """An LOA whose orders are all canceled (or that covers none) is canceled."""
    loa = await queries.loa(tx, loa_sid, None)
    if loa is None or loa.status == LoaStatus.CANCELED.value:
        return
    orders = await queries.port_orders_of_loa(tx, loa_sid)
    if all(o.status == PortOrderStatus.CANCELED.value for o in orders):
        await claim(tx, loa)
        loa.status = LoaStatus.CANCELED.value
        loa.open_group_key = None
        loa.date_updated = now
        await record_loa_event(tx, loa, actor, actor_sid, now)
