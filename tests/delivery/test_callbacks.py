"""Status callbacks against a real HTTP receiver on loopback: signatures, retries, records."""

from __future__ import annotations

import json
import socket
from collections import Counter
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from app.config import Settings
from app.porting.errors import PortingError
from app.runners.worker import DeliveryWorker
from app.services import deliveries, loas, port_orders, webhook_secrets
from app.services.context import Services
from app.store import queries
from app.wiring import build_services
from tests.builders import operator, order_input, signature, tenant
from tests.delivery.conftest import Mailbox, drain, fast
from tests.delivery.receiver import Received, Receiver

SIGNATURE = signature(ip="192.0.2.7")


async def test_every_callback_verifies_with_twilio_and_standard_webhooks(
    nsvc: Services, receiver: Receiver
) -> None:
    who = await tenant(nsvc)
    url = receiver.url("/hooks/porting?tenant=a%20b&x=1")
    order = await port_orders.create_port_order(nsvc, who.caller, order_input(status_callback=url))
    await loas.request_signature(nsvc, who.caller, order.loa_sid)
    await loas.sign(nsvc, order.loa_sid, SIGNATURE)
    await drain(nsvc)

    secret = await webhook_secrets.get_webhook_secret(nsvc, who.caller, who.caller.sid)
    assert secret.startswith("whsec_")
    got = receiver.received
    assert [json.loads(r.body)["status"] for r in got] == ["CREATED", "PENDING", "SUBMITTED"]
    for r in got:
        assert r.url.startswith(url + "&bodySHA256=")
        assert r.twilio_valid(who.token)
        assert not r.twilio_valid("0" * 32)
        assert r.standard_payload(secret) == json.loads(r.body)
        assert r.headers["content-type"] == "application/json"
        assert r.headers["i-twilio-idempotency-token"] == r.headers["webhook-id"]
        assert set(json.loads(r.body)) == {
            "port_order_sid",
            "callback_type",
            "status",
            "foc_date",
            "date_updated",
            "phone_number_sid",
            "errors",
        }
    # A tampered body fails both checks.
    forged = got[0]
    forged.body = forged.body.replace(b"CREATED", b"COMPLETED")
    assert not forged.twilio_valid(who.token)
    with pytest.raises(WebhookVerificationError):
        forged.standard_payload(secret)


@pytest.mark.dialects("sqlite", "postgres")
async def test_three_failures_then_200_is_four_attempts_with_one_webhook_id(
    nsvc: Services, receiver: Receiver
) -> None:
    seen: Counter[str] = Counter()
    codes = [500, 503, 429]

    def answer(req: Received) -> int:
        n = seen[req.headers["webhook-id"]]
        seen[req.headers["webhook-id"]] += 1
        return codes[n] if n < len(codes) else 200

    receiver.answer = answer
    who = await tenant(nsvc)
    order = await port_orders.create_port_order(
        nsvc, who.caller, order_input(status_callback=receiver.url())
    )
    await drain(nsvc)

    records = await deliveries.callback_deliveries(nsvc, who.caller, order.sid)
    assert len(records) == 2  # CREATED and PENDING
    for rec in records:
        d = rec.delivery
        hits = [r for r in receiver.received if r.headers["webhook-id"] == d.sid]
        assert len(hits) == 4
        assert len({r.body for r in hits}) == 1
        assert {r.headers["i-twilio-idempotency-token"] for r in hits} == {d.sid}
        assert d.state == "delivered" and d.attempts == 4
        assert [a.status_code for a in rec.attempts] == [500, 503, 429, 200]
        assert [a.error is None for a in rec.attempts] == [False, False, False, True]
        assert "HTTP 500" in (rec.attempts[0].error or "")
        assert all(a.latency_ms is not None and a.latency_ms >= 0 for a in rec.attempts)
        dates = [a.date for a in rec.attempts]
        assert dates == sorted(dates)
    assert len(receiver.received) == 8


async def test_410_stops_at_once_and_exhausted_schedule_gives_up(
    nsvc: Services, receiver: Receiver
) -> None:
    gone, broken = Receiver(answer=lambda _: 410).start(), Receiver(answer=lambda _: 500).start()
    try:
        who = await tenant(nsvc)
        a = await port_orders.create_port_order(
            nsvc, who.caller, order_input(status_callback=gone.url())
        )
        b = await port_orders.create_port_order(
            nsvc, who.caller, order_input(status_callback=broken.url())
        )
        await drain(nsvc)
        by_order = await deliveries.deliveries_by_order(nsvc, who.caller, [a.sid, b.sid])
    finally:
        gone.stop()
        broken.stop()
    for rec in by_order[a.sid]:
        assert rec.delivery.state == "failed"
        assert [x.status_code for x in rec.attempts] == [410]
        assert "410 Gone" in (rec.attempts[0].error or "")
    assert len(gone.received) == 2
    for rec in by_order[b.sid]:
        assert rec.delivery.state == "failed" and rec.delivery.attempts == 4
        assert [x.status_code for x in rec.attempts] == [500] * 4
        assert "given up after 4 attempts" in (rec.attempts[-1].error or "")
    assert len(broken.received) == 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_refused_connection_is_retried_until_the_receiver_is_up(
    settings: Settings, mailbox: Mailbox
) -> None:
    svc = build_services(fast(settings, callback_retry_schedule="0.3,0.3,0.3"))
    svc.email_sender = mailbox
    port = _free_port()
    late = Receiver(bind_port=port)
    try:
        who = await tenant(svc)
        url = f"http://127.0.0.1:{port}/cb"
        order = await port_orders.create_port_order(
            svc, who.caller, order_input(status_callback=url)
        )
        worker = DeliveryWorker(svc)
        await worker.run_once()  # both callbacks: connection refused
        recs = await deliveries.callback_deliveries(svc, who.caller, order.sid)
        assert [r.delivery.state for r in recs] == ["pending", "pending"]
        assert all(r.attempts[0].status_code is None for r in recs)
        assert all("connection failed" in (r.attempts[0].error or "") for r in recs)
        late.start()
        await drain(svc, worker)
        recs = await deliveries.callback_deliveries(svc, who.caller, order.sid)
        assert [r.delivery.state for r in recs] == ["delivered", "delivered"]
        assert [[a.status_code for a in r.attempts] for r in recs] == [[None, 200]] * 2
        assert len(late.received) == 2
    finally:
        late.stop()
        await svc.close()


async def test_timeout_is_an_attempt_with_an_error(settings: Settings, mailbox: Mailbox) -> None:
    svc = build_services(fast(settings, callback_timeout_seconds=0.3, callback_retry_schedule=""))
    svc.email_sender = mailbox
    slow = Receiver(delay=1.5).start()
    try:
        who = await tenant(svc)
        order = await port_orders.create_port_order(
            svc, who.caller, order_input(status_callback=slow.url())
        )
        await drain(svc)
        recs = await deliveries.callback_deliveries(svc, who.caller, order.sid)
    finally:
        slow.stop()
        await svc.close()
    for r in recs:
        assert r.delivery.state == "failed"
        assert [a.status_code for a in r.attempts] == [None]
        assert "timed out after 0.3 s" in (r.attempts[0].error or "")


async def test_rotated_secret_signs_with_new_and_old_for_a_day(
    nsvc: Services, receiver: Receiver
) -> None:
    who = await tenant(nsvc)
    old = await webhook_secrets.get_webhook_secret(nsvc, who.caller, who.caller.sid)
    new = await webhook_secrets.rotate_webhook_secret(nsvc, who.caller, who.caller.sid)
    assert new != old and new.startswith("whsec_")
    assert await webhook_secrets.get_webhook_secret(nsvc, who.caller, who.caller.sid) == new
    await port_orders.create_port_order(
        nsvc, who.caller, order_input(status_callback=receiver.url())
    )
    await drain(nsvc)
    first = receiver.received[0]
    assert first.standard_payload(new) and first.standard_payload(old)
    assert len(first.headers["webhook-signature"].split(" ")) == 2

    real_clock = nsvc.clock
    nsvc.clock = lambda: real_clock() + timedelta(hours=25)
    async with nsvc.db.read() as s:
        account = await queries.account_by_sid(s, who.caller.sid)
    assert account is not None
    assert len(await webhook_secrets.signing_keys(nsvc, account)) == 1


async def test_secrets_are_the_owners_alone(nsvc: Services) -> None:
    who = await tenant(nsvc)
    other = await tenant(nsvc)
    op = await operator(nsvc)
    for caller, code in ((other.caller, 20404), (op, 20403)):
        with pytest.raises(PortingError) as refused:
            await webhook_secrets.get_webhook_secret(nsvc, caller, who.caller.sid)
        assert refused.value.code == code
        with pytest.raises(PortingError):
            await webhook_secrets.rotate_webhook_secret(nsvc, caller, who.caller.sid)


async def test_attempts_are_readable_by_owner_and_operators_only(
    nsvc: Services, receiver: Receiver
) -> None:
    who = await tenant(nsvc)
    other = await tenant(nsvc)
    op = await operator(nsvc)
    order = await port_orders.create_port_order(
        nsvc, who.caller, order_input(status_callback=receiver.url())
    )
    await drain(nsvc)
    mine = await deliveries.callback_deliveries(nsvc, who.caller, order.sid)
    assert [r.delivery.state for r in mine] == ["delivered", "delivered"]
    assert [len(r.attempts) for r in mine] == [1, 1]
    seen_by_operator = await deliveries.callback_deliveries(nsvc, op, order.sid)
    assert [r.delivery.sid for r in seen_by_operator] == [r.delivery.sid for r in mine]
    with pytest.raises(PortingError) as hidden:
        await deliveries.callback_deliveries(nsvc, other.caller, order.sid)
    assert hidden.value.code == 20404
    batch = await deliveries.deliveries_by_order(nsvc, other.caller, [order.sid])
    assert batch == {order.sid: []}
    emails = await deliveries.callback_deliveries(nsvc, who.caller, order.sid, channel="email")
    assert [r.delivery.kind for r in emails] == ["status_update"]
