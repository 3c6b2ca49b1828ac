"""One email attempt: compose the message of a delivery (Jinja2, plain text + HTML), send it.

The message's bytes are written directly when everything in it is ASCII (app/services/
mail_wire.py: the same bytes the email package writes, at a fiftieth of its cost); anything
else goes through the email package.

The content comes from the event (the status at that moment) and the current rows (names,
numbers). No write-only field is ever in a template's context. The Message-ID is the delivery
SID, so a retried message is recognisably the same message.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.porting.isotime import parse_utc
from app.porting.notifications import (
    KIND_CC_MAIL,
    KIND_COMMENT_MAIL,
    KIND_LOA_SIGNATURE,
    KIND_STATUS_MAIL,
)
from app.porting.statuses import LoaStatus
from app.services import letters, loa_signing, mail_wire
from app.services.context import Services
from app.services.delivery_rows import Rows
from app.services.ports import Mail, MailError
from app.store import queries, work
from app.store.tables import Delivery

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)

STATUS_TEXT = {
    "CREATED": "We have received your port order.",
    "PENDING": "Your port order is waiting for its Letter of Authorization to be signed.",
    "SUBMITTED": "The signed port order has been submitted to the current carrier.",
    "ACCEPTED": "The current carrier accepted the transfer; the number moves on the "
    "activation date below.",
    "COMPLETED": "The transfer is complete: the number is now in your Portico inventory.",
    "REJECTED": "The transfer was rejected. You can correct the order and submit it again.",
    "FAILED": "The transfer failed and cannot continue.",
    "REVIEW": "Our porting team is reviewing this order by hand.",
    "CANCELED": "The port order was canceled.",
}


class NotSent(Exception):
    """The message no longer makes sense (e.g. the LOA is no longer awaiting a signature)."""


def _human_date(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = parse_utc(value)
    return parsed.strftime("%d %B %Y, %H:%M UTC") if parsed else value


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())[-10:]


def render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    text = _env.get_template(f"{kind}.txt").render(context)
    html = _env.get_template(f"{kind}.html").render(context)
    return text, html


async def _loa_context(svc: Services, d: Delivery) -> tuple[str, dict[str, Any]]:
    assert d.loa_sid is not None
    async with svc.db.read() as s:
        loa = await queries.loa(s, d.loa_sid, None)
        orders = list(await queries.port_orders_of_loa(s, d.loa_sid))
    if loa is None or loa.status != LoaStatus.SIGNING.value:
        state = loa.status if loa else "gone"
        raise NotSent(f"not sent: the LOA is {state}, no longer awaiting a signature")
    letter = letters.letter_of(loa, orders)
    numbers = [
        letters.display_number(o.number) for o in orders if o.status not in letters.NOT_COVERED
    ]
    what = numbers[0] if len(numbers) == 1 else f"{len(numbers)} numbers"
    context = {
        "signer": letter.signer,
        "numbers": numbers,
        "business_name": letter.business_name,
        "address": ", ".join(letter.address),
        "link": loa_signing.signing_link(svc, loa.sid),
        "valid_days": max(1, svc.settings.loa_link_max_age_seconds // 86400),
    }
    return f"Please sign to transfer {what} to Portico", context


async def _order_context(
    svc: Services, d: Delivery, rows: Rows | None
) -> tuple[str, dict[str, Any]]:
    assert d.port_order_sid is not None
    if rows is not None and rows.fresh:
        event, order = rows.events.get(d.event_id), rows.orders.get(d.port_order_sid)
    else:
        async with svc.db.read() as s:
            event = await queries.event_by_id(s, d.event_id)
            order = await queries.port_order(s, d.port_order_sid, None)
    if event is None or order is None:
        raise NotSent("not sent: the order or its event no longer exists")
    status = str(event.payload.get("status"))
    number = letters.display_number(order.number)
    errors = [
        {"code": e.get("code"), "reason": e.get("reason"), "date": _human_date(e.get("date"))}
        for e in event.payload.get("errors") or []
        if isinstance(e, dict)
    ]
    context = {
        "signer": order.first_name,
        "business_name": order.company_name,
        "number": number,
        "friendly_name": None
        if _digits(order.friendly_name) == _digits(number)
        else order.friendly_name,
        "status": status,
        "status_text": STATUS_TEXT.get(status, f"The port order is now {status}."),
        "foc_date": _human_date(event.payload.get("foc_date")),
        "reason": order.reason if status in ("REJECTED", "FAILED", "REVIEW") else None,
        "errors": errors[-3:] if status in ("REJECTED", "FAILED") else [],
        "order_sid": order.sid,
    }
    suffix = " (copy)" if d.kind == KIND_CC_MAIL else ""
    return f"Port order for {number}: {status}{suffix}", context


AUTHORS = {"customer": "The customer", "operator": "The porting team", "system": "Portico"}


async def _comment_context(svc: Services, d: Delivery) -> tuple[str, dict[str, Any]]:
    """A comment's mail: its body as written (the HTML template escapes it)."""
    async with svc.db.read() as s:
        event = await queries.event_by_id(s, d.event_id)
        order = await queries.port_order(s, d.port_order_sid, None) if d.port_order_sid else None
    if event is None:
        raise NotSent("not sent: the comment's event no longer exists")
    p = event.payload
    subject_sid = str(p.get("port_order_sid") or p.get("port_request_sid") or "")
    if order is not None:
        about = f"the port order for {letters.display_number(order.number)}"
        path = f"/porting/PortOrders/{subject_sid}/Comments"
    else:
        about = f"the Port Request {subject_sid}"
        path = f"/porting/PortRequests/{subject_sid}/Comments"
    context = {
        "author": AUTHORS.get(str(p.get("author_type")), "Someone"),
        "about": about,
        "body": str(p.get("body") or ""),
        "subject_sid": subject_sid,
        "comments_url": svc.settings.url_for(path),
    }
    return f"New comment on {about}", context


async def compose_mail(svc: Services, d: Delivery, rows: Rows | None = None) -> Mail:
    """`rows`: what the worker read for the claimed batch (read here when None or stale; the
    signature request always reads its LOA now: it is not sent once the LOA is signed)."""
    if d.kind == KIND_LOA_SIGNATURE:
        subject, context = await _loa_context(svc, d)
    elif d.kind in (KIND_STATUS_MAIL, KIND_CC_MAIL):
        subject, context = await _order_context(svc, d, rows)
    elif d.kind == KIND_COMMENT_MAIL:
        subject, context = await _comment_context(svc, d)
    else:
        raise NotSent(f"not sent: unknown kind of mail {d.kind!r}")
    text, html = render(d.kind, {**context, "subject": subject})
    mail_from = svc.settings.mail_from
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "portico.localhost"
    headers = {
        "From": mail_from,
        "To": d.target,
        "Subject": subject,
        "Date": format_datetime(datetime.now(UTC)),
        "Message-ID": f"<{d.sid}@{domain}>",
        "X-Portico-Kind": d.kind,
    }
    # Our own boundary: the email package would draw one from the global `random` state.
    boundary = f"=_portico_{secrets.token_hex(16)}"
    data = mail_wire.plain(headers, text, html, boundary)
    return Mail(
        kind=d.kind,
        message_id=headers["Message-ID"],
        sender=parseaddr(mail_from)[1],
        recipients=(d.target,),
        data=data,
        message=mail_wire.message(headers, text, html, boundary) if data is None else None,
    )


async def compose(svc: Services, d: Delivery, rows: Rows | None = None) -> EmailMessage:
    """`compose_mail`, as the email package reads it (tests, tools)."""
    return (await compose_mail(svc, d, rows)).as_message()


async def send(svc: Services, d: Delivery, rows: Rows | None = None) -> work.Outcome:
    started = time.monotonic()
    try:
        mail = await compose_mail(svc, d, rows)
    except NotSent as exc:
        return work.Outcome(False, error=str(exc), final=True)
    assert svc.email_sender is not None
    try:
        await svc.email_sender.send(mail)
    except MailError as exc:
        latency = round((time.monotonic() - started) * 1000, 1)
        return work.Outcome(False, error=str(exc), latency_ms=latency, final=exc.permanent)
    return work.Outcome(True, latency_ms=round((time.monotonic() - started) * 1000, 1))
