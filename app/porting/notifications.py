"""Which deliveries an event implies (pure); app/store/events.py queues them as rows inside the
transaction that writes the event.

- A status callback when the order has `status_callback` and the event is a status or FOC
  date change (its payload's `callback_type` is not empty): CONTRACT.md §9.
- Status mail to `status_updates_email`, else `email`, on every status move of an order
  (`port_order.status_changed`; the creation step CREATED is announced by the move that
  follows it in the same transaction, PENDING or REJECTED, so one create sends one mail).
- Mail to each address of `cc_emails` on SUBMITTED, FAILED and COMPLETED (an address that
  already gets the status mail is not mailed twice).
- The LOA signature request, with its signing link, when an LOA goes open -> signing.
- A Port Request's status callback when its derived status changes (and at its creation),
  when it has `status_callback` (CONTRACT.md §11); no mail (its orders send theirs).
- A comment (`comment_deliveries`): a `comment_added` callback to the subject's
  `status_callback`, and mail to the other side: a customer's comment to the porting team
  (PORTICO_OPERATOR_EMAIL, when set), an operator's or Portico's own to the customer (the
  order's status address).
CONTRACT.md §10. The rows commit with the event or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.porting.changes import STATUS_CHANGED
from app.porting.statuses import LoaStatus, PortOrderStatus

CALLBACK = "callback"
EMAIL = "email"

KIND_CALLBACK = "status_callback"
KIND_STATUS_MAIL = "status_update"
KIND_CC_MAIL = "cc"
KIND_LOA_SIGNATURE = "loa_signature"
KIND_COMMENT_MAIL = "comment"

CC_STATUSES = frozenset(
    s.value for s in (PortOrderStatus.SUBMITTED, PortOrderStatus.FAILED, PortOrderStatus.COMPLETED)
)


@dataclass(frozen=True)
class Planned:
    """One delivery to queue for an event."""

    channel: str
    kind: str
    target: str
    port_order_sid: str | None = None
    loa_sid: str | None = None


class OrderAddresses(Protocol):
    """What the plan reads of an order (a row, or anything shaped like one)."""

    @property
    def sid(self) -> str: ...
    @property
    def loa_sid(self) -> str: ...
    @property
    def status_callback(self) -> str | None: ...
    @property
    def email(self) -> str: ...
    @property
    def status_updates_email(self) -> str | None: ...
    @property
    def cc_emails(self) -> Sequence[str]: ...


def order_deliveries(
    event_type: str, payload: Mapping[str, Any], order: OrderAddresses
) -> list[Planned]:
    out: list[Planned] = []
    ref = (order.sid, order.loa_sid)
    if order.status_callback and payload.get("callback_type"):
        out.append(Planned(CALLBACK, KIND_CALLBACK, order.status_callback, *ref))
    if event_type != STATUS_CHANGED:
        return out
    to = order.status_updates_email or order.email
    out.append(Planned(EMAIL, KIND_STATUS_MAIL, to, *ref))
    if payload.get("status") in CC_STATUSES:
        seen = {to.casefold()}
        for address in order.cc_emails:
            if address.casefold() not in seen:
                seen.add(address.casefold())
                out.append(Planned(EMAIL, KIND_CC_MAIL, address, *ref))
    return out


def loa_deliveries(payload: Mapping[str, Any], loa_sid: str, signer_email: str) -> list[Planned]:
    if payload.get("status") != LoaStatus.SIGNING.value:
        return []
    return [Planned(EMAIL, KIND_LOA_SIGNATURE, signer_email, loa_sid=loa_sid)]


def request_deliveries(payload: Mapping[str, Any], status_callback: str | None) -> list[Planned]:
    """A Port Request's event: its status callback (every event of a request is a status)."""
    if not status_callback or not payload.get("callback_type"):
        return []
    return [Planned(CALLBACK, KIND_CALLBACK, status_callback)]


def comment_deliveries(
    author_type: str,
    *,
    status_callback: str | None,
    customer_email: str | None,
    operator_email: str | None,
    port_order_sid: str | None = None,
) -> list[Planned]:
    """A comment's callback and its mail to the other side (see the module's docstring)."""
    out: list[Planned] = []
    if status_callback:
        out.append(Planned(CALLBACK, KIND_CALLBACK, status_callback, port_order_sid))
    to = operator_email if author_type == "customer" else customer_email
    if to:
        out.append(Planned(EMAIL, KIND_COMMENT_MAIL, to, port_order_sid))
    return out
