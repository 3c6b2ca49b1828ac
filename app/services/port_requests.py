"""Port Requests (CONTRACT.md §11): create many orders in one request, cancel them together,
and check the portability of many numbers.

Like the order use cases, the create comes in two parts: `prepare_create` validates every
number (app/porting/requests.py) and asks the carrier about the valid ones in one call, outside
any transaction; `create` runs in the transaction it is given: one read of the numbers already
taken, the orders written in a constant number of statements (app/services/_batch.py), the
request row and its event. `create_port_request` and friends are the boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.porting import changes, requests, sids
from app.porting.carrier import Portability
from app.porting.errors import PortingError
from app.porting.requests import NumberEntry, NumberError, NumberResult, PortabilityResult
from app.porting.statuses import Actor, PortOrderStatus, PortType, binding_foc, cancel_refusal
from app.services import _batch, _orders, _requests, port_orders, reads
from app.services.context import Caller, Services
from app.services.reads import RequestView
from app.store import queries
from app.store.engine import Tx
from app.store.tables import PortRequest

S = PortOrderStatus


@dataclass(frozen=True)
class NewRequest:
    """A create, validated and checked with the carrier: ready to write."""

    caller: Caller
    account_sid: str
    entries: list[NumberEntry]
    portability: Mapping[int, Portability]  # by entry index, for the valid entries
    all_or_nothing: bool


# --- create ------------------------------------------------------------------------------------


async def prepare_create(svc: Services, caller: Caller, raw: Mapping[str, object]) -> NewRequest:
    account_sid = port_orders.owner(caller, raw)
    all_or_nothing = requests.parse_flag(raw.get(requests.ALL_OR_NOTHING), requests.ALL_OR_NOTHING)
    entries = requests.read_numbers(raw, svc.settings.port_request_max_numbers)
    valid = [e for e in entries if e.fields is not None]
    answers = await svc.carrier.check_portability_many([e.fields.number for e in valid if e.fields])
    portability = {e.index: p for e, p in zip(valid, answers, strict=True)}
    return NewRequest(caller, account_sid, entries, portability, all_or_nothing)


def _checked(entry: NumberEntry, p: Portability | None, held: int | None) -> NumberEntry:
    """The entry, left out when its number is taken (21838, 21837) or not portable (21827)."""
    if entry.fields is None:
        return entry
    if held is not None:
        return entry.refused(PortingError(held, field="number"))
    if p is not None and not p.portable:
        return entry.refused(PortingError(p.error_code or 21827, p.reason or "", "number"))
    return entry


async def create(tx: Tx, svc: Services, new: NewRequest) -> RequestView:
    caller = new.caller
    now = svc.clock()
    if caller.is_operator and await queries.account_by_sid(tx, new.account_sid) is None:
        raise PortingError(20404, "Account not found", "account_sid")
    numbers = [e.fields.number for e in new.entries if e.fields is not None]
    held = await queries.held_numbers(tx, numbers)
    entries = [
        _checked(e, new.portability.get(e.index), held.get(e.number or "")) for e in new.entries
    ]
    ok = [e for e in entries if e.fields is not None]
    if not ok or (new.all_or_nothing and len(ok) < len(entries)):
        raise requests.refusal([e for e in entries if e.errors])
    sid = sids.mint(sids.PORT_REQUEST)
    orders = await _batch.create_orders(
        tx,
        svc,
        new.account_sid,
        [_batch.NewOrder(e.fields, new.portability[e.index]) for e in ok if e.fields],
        caller.actor,
        caller.sid,
        now,
        port_request_sid=sid,
    )
    by_index = {e.index: o for e, o in zip(ok, orders, strict=True)}
    counts = requests.counts_of(o.status for o in orders)
    row = PortRequest(
        sid=sid,
        account_sid=new.account_sid,
        status=requests.derive_status(counts).value,
        number_count=len(entries),
        counts=counts,
        numbers=[
            requests.stored_entry(e, o.sid if (o := by_index.get(e.index)) else None)
            for e in entries
        ],
        all_or_nothing=new.all_or_nothing,
        status_callback=ok[0].fields.status_callback if ok[0].fields else None,
        date_created=now,
        date_updated=now,
    )
    tx.add(row)
    _requests.record_event(tx, row, requests.CREATED_EVENT, caller.actor, caller.sid, now)
    results = [
        NumberResult(o.number, o.sid, S(o.status))
        if (o := by_index.get(e.index))
        else NumberResult(e.number, None, None, _errors(e))
        for e in entries
    ]
    return RequestView(row, results, list(dict.fromkeys(o.loa_sid for o in orders)))


def _errors(entry: NumberEntry) -> tuple[NumberError, ...]:
    return tuple(NumberError(e.code, e.message) for e in entry.errors)


async def create_port_request(
    svc: Services, caller: Caller, raw: Mapping[str, object]
) -> RequestView:
    return await svc.run(create, svc, await prepare_create(svc, caller, raw))


# --- cancel ------------------------------------------------------------------------------------


async def cancel(tx: Tx, svc: Services, caller: Caller, sid: str) -> RequestView:
    """Cancel every order of the request the cancel rules allow (CONTRACT.md §5), each as a
    single cancel would; the others keep their status, with the rule that refused them."""
    if not sids.is_sid(sid, sids.PORT_REQUEST):
        raise PortingError(20404, field="sid")
    now = svc.clock()
    row = await queries.port_request(tx, sid, caller.visible)
    if row is None:
        raise PortingError(20404, field="sid")
    orders = (await queries.orders_of_requests(tx, [sid]))[sid]
    outcomes: dict[str, list[NumberError]] = {}
    moves: list[_batch.Move] = []
    for order in orders:
        status = S(order.status)
        foc = binding_foc(status, order.activation_date)
        refusal = cancel_refusal(status, PortType(order.port_type), foc, now)
        if refusal is not None:
            outcomes[order.sid] = [NumberError(refusal.code, refusal.message)]
            continue
        change = changes.decide(
            status, S.CANCELED, Actor.CUSTOMER, was_submitted=order.submitted_date is not None
        )
        moves.append(_batch.Move(order, change))
        outcomes[order.sid] = []
    await _orders.claim_many(tx, [m.order for m in moves])
    await _batch.move_orders(tx, moves, Actor.CUSTOMER, caller.sid, now)
    await tx.run_before_commit()  # the request's derived status, for the answer
    numbers = reads.number_results(row, {o.sid: o for o in orders}, {}, outcomes)
    return RequestView(row, numbers, list(dict.fromkeys(o.loa_sid for o in orders)))


async def cancel_port_request(svc: Services, caller: Caller, sid: str) -> RequestView:
    return await svc.run(cancel, svc, caller, sid)


# --- portability checks -----------------------------------------------------------------------


async def check_portability(
    svc: Services, caller: Caller, raw: Mapping[str, object]
) -> list[PortabilityResult]:
    """Each number's portability, as a create would find it now; stores nothing."""
    given = requests.read_check_numbers(raw, svc.settings.port_request_max_numbers)
    valid = list(dict.fromkeys(n for _, n in given if n is not None))
    answers = dict(zip(valid, await svc.carrier.check_portability_many(valid), strict=True))
    async with svc.db.read() as s:
        held = await queries.held_numbers(s, valid)
    return [
        requests.checked(n, answers[n], held.get(n)) if n else requests.invalid_number(g)
        for g, n in given
    ]
