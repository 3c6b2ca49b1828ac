"""Email through a real SMTP server (aiosmtpd), and the embedded .eml outbox."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from aiosmtpd.controller import Controller

from app.config import Settings
from app.main import create_app
from app.porting.statuses import Actor, PortOrderStatus
from app.services import loas, operators, port_orders, reads
from app.services.context import Services
from app.services.ports import Mail
from app.wiring import build_services
from tests.builders import mobile_input, order_input, signature, tenant
from tests.delivery.conftest import Mailbox, drain, fast
from tests.delivery.receiver import Receiver
from tests.delivery.smtp import Inbox

LINK = re.compile(r"https?://\S+/loa/sign/[A-Za-z0-9_\-.]+")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


async def test_smtp_gets_signature_request_status_mail_and_cc(
    settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    svc = build_services(fast(settings, smtp_url=f"smtp://127.0.0.1:{port}"))
    try:
        who = await tenant(svc)
        raw = order_input(company_name="Acme Telecom", cc_emails=["boss@example.com"])
        order = await port_orders.create_port_order(svc, who.caller, raw)
        await loas.request_signature(svc, who.caller, order.loa_sid)
        await drain(svc)

        status = inbox.by_subject(": PENDING")
        assert status["To"] == "james.smith@example.com"
        request = inbox.by_subject("Please sign")
        assert request["To"] == "james.smith@example.com"
        text, html = parts(request)
        link = LINK.search(text)
        assert link is not None and link.group(0) in html
        assert "+1 415-555-" in text and "Acme Telecom" in html
        assert "645 Harrison St, San Francisco, CA 94107" in text

        # The link opens the letter; signing there submits the order.
        app = create_app(svc.settings, svc)
        path = link.group(0).removeprefix("http://testserver")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            page = await client.get(path)
            assert page.status_code == 200 and "Acme Telecom" in page.text
            sha = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', page.text)
            assert sha is not None
            done = await client.post(
                path,
                data={"signer_name": "James Smith", "agree": "yes", "text_sha256": sha.group(1)},
            )
            assert done.status_code == 200, done.text
        await drain(svc)
        submitted = await reads.get_port_order(svc, who.caller, order.sid)
        assert submitted is not None and submitted.status == PortOrderStatus.SUBMITTED

        assert inbox.by_subject(": SUBMITTED (copy)")["To"] == "boss@example.com"
        mail = inbox.by_subject(": SUBMITTED")
        assert mail["To"] == "james.smith@example.com"
        text, html = parts(mail)
        assert "submitted to the current carrier" in text and order.sid in html
        assert {rcpts[0] for _, rcpts in inbox.envelopes} == {
            "james.smith@example.com",
            "boss@example.com",
        }
        assert inbox.logins == []  # plain smtp://host:port: no login
        # Message-IDs are the delivery SIDs: one per message, stable across retries.
        assert len({m["Message-ID"] for m in inbox.messages}) == len(inbox.messages) == 4
    finally:
        await svc.close()


async def test_smtp_login_never_logs_the_password(
    settings: Settings, smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox, port = smtp
    url = f"smtp://porting%40example.com:s3cr3t-pw@127.0.0.1:{port}"
    svc = build_services(fast(settings, smtp_url=url))
    try:
        assert "s3cr3t-pw" not in repr(svc.settings) and "s3cr3t-pw" not in repr(svc.email_sender)
        who = await tenant(svc)
        await port_orders.create_port_order(svc, who.caller, order_input())
        await drain(svc)
    finally:
        await svc.close()
    assert inbox.logins == [("porting@example.com", "s3cr3t-pw")]
    assert len(inbox.messages) == 1
    assert "s3cr3t-pw" not in caplog.text
    assert "sent via SMTP 127.0.0.1" in caplog.text


async def test_smtp_refusal_is_recorded_and_retried(
    settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    wrong = f"smtp://someone:wrong-pw@127.0.0.1:{port}"
    svc = build_services(fast(settings, smtp_url=wrong, callback_retry_schedule="0.05"))
    try:
        who = await tenant(svc)
        order = await port_orders.create_port_order(svc, who.caller, order_input())
        await drain(svc)
        from app.services import deliveries

        (rec,) = await deliveries.callback_deliveries(svc, who.caller, order.sid, "email")
    finally:
        await svc.close()
    assert inbox.messages == []
    assert rec.delivery.state == "failed"
    assert rec.attempts[0].error and "SMTP 535" in rec.attempts[0].error
    assert "wrong-pw" not in (rec.attempts[0].error or "")


async def test_outbox_writes_eml_files_and_logs_one_line_each(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.adapters.mailer")
    svc = build_services(fast(settings))  # no PORTICO_SMTP_URL: the outbox
    try:
        who = await tenant(svc)
        order = await port_orders.create_port_order(
            svc, who.caller, order_input(status_updates_email="ops@example.com")
        )
        await loas.request_signature(svc, who.caller, order.loa_sid)
        await drain(svc)
    finally:
        await svc.close()
    files = sorted((settings.var_dir / "mail").glob("*.eml"))
    assert len(files) == 2
    messages = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files
    ]
    assert {m["To"] for m in messages} == {"ops@example.com", "james.smith@example.com"}
    lines = [r.getMessage() for r in caplog.records if r.name == "app.adapters.mailer"]
    assert len(lines) == 2
    assert all("written to" in line and "/loa/sign/" not in line for line in lines)


async def test_no_secret_in_callbacks_emails_or_logs(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = Receiver().start()
    svc = build_services(fast(settings))
    secret_values = ["PinSecret918273", "AcctSecret-55501"]
    try:
        who = await tenant(svc)
        raw = mobile_input(
            pin_number="PinSecret918273",
            account_number="AcctSecret-55501",
            ssn_last_four="5791",
            status_callback=receiver.url(),
            cc_emails=["boss@example.com"],
        )
        order = await port_orders.create_port_order(svc, who.caller, raw)
        await loas.request_signature(svc, who.caller, order.loa_sid)
        await drain(svc)  # the signature request goes out while the LOA awaits it
        await loas.sign(svc, order.loa_sid, signature(ip=None, user_agent=None))
        for status in (PortOrderStatus.ACCEPTED, PortOrderStatus.COMPLETED):
            await operators.set_status(svc, Actor.CARRIER, None, order.sid, status)
        await drain(svc)
        from app.services import webhook_secrets

        whsec = await webhook_secrets.get_webhook_secret(svc, who.caller, who.caller.sid)
    finally:
        receiver.stop()
        await svc.close()
    assert len(receiver.received) == 5  # CREATED PENDING SUBMITTED ACCEPTED COMPLETED
    mails = [f.read_bytes().decode() for f in (settings.var_dir / "mail").glob("*.eml")]
    assert len(mails) == 7  # 4 status mails, signature request, 2 cc mails
    seen = {
        "callbacks": "\n".join(
            r.body.decode() + repr(sorted(r.headers.items())) for r in receiver.received
        ),
        "emails": "\n".join(mails),
        "logs": caplog.text,
    }
    for where, text in seen.items():
        for value in [*secret_values, who.token, whsec, whsec.removeprefix("whsec_")]:
            assert value not in text, f"{where} carries a secret"
        assert not re.search(r"(?<![0-9A-Za-z])5791(?![0-9A-Za-z])", text), where
        for name in ("ssn_last_four", "account_number", "pin_number"):
            assert name not in text, f"{where} names {name}"
    assert "/loa/sign/" not in caplog.text  # the signing link is a credential too


async def test_signature_request_for_a_letter_signed_meanwhile_is_not_sent(
    nsvc: Services, mailbox: Mailbox
) -> None:
    who = await tenant(nsvc)
    order = await port_orders.create_port_order(nsvc, who.caller, order_input())
    await loas.request_signature(nsvc, who.caller, order.loa_sid)
    await loas.sign(nsvc, order.loa_sid, signature(ip=None, user_agent=None))
    await drain(nsvc)
    subjects = [str(m["Subject"]) for m in mailbox.messages]
    assert not any("Please sign" in s for s in subjects)
    assert sorted(s.rsplit(": ", 1)[1] for s in subjects) == ["PENDING", "SUBMITTED"]


async def test_mail_and_jitter_leave_the_global_random_state_alone(
    nsvc: Services, mailbox: Mailbox
) -> None:
    # Hypothesis (the REST contract tests) flags any use of `random` while it generates data,
    # and the server's worker runs meanwhile: boundaries and jitter use generators of their own.
    import random
    from datetime import UTC, datetime

    from app.store import work

    who = await tenant(nsvc)
    await port_orders.create_port_order(nsvc, who.caller, order_input())
    state = random.getstate()
    await drain(nsvc)
    (message,) = mailbox.messages
    message.as_bytes()
    work.next_step(work.Outcome(False, 500), 1, work.RetryPolicy((10.0,)), datetime.now(UTC))
    assert random.getstate() == state


def _message(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "porting@portico.localhost"
    message["To"] = f"customer{n}@example.com"
    message["Subject"] = f"message {n}"
    message["Message-ID"] = f"<DL{n:04d}@portico.localhost>"
    message["X-Portico-Kind"] = "status_update"
    message.set_content("hello")
    return message


async def test_smtp_connections_are_reused_bounded_and_closed_when_idle(
    smtp: tuple[Inbox, int],
) -> None:
    import asyncio

    from app.adapters.mailer import SmtpSender

    inbox, port = smtp
    sender = SmtpSender(f"smtp://127.0.0.1:{port}", max_connections=3, idle_seconds=0.5)
    try:
        await asyncio.gather(*(sender.send(Mail.of(_message(n))) for n in range(30)))
        assert len(inbox.messages) == 30
        assert 1 <= sender.connects <= 3  # at most three at once, each reused
        await asyncio.gather(*(sender.send(Mail.of(_message(n))) for n in range(30, 40)))
        assert len(inbox.messages) == 40 and sender.connects <= 3  # still the same ones

        # Unused for idle_seconds: closed (QUIT); the next message opens a new one.
        await sender.send(Mail.of(_message(40)))
        before = sender.connects
        await asyncio.sleep(0.8)
        assert sender._idle == []
        await sender.send(Mail.of(_message(41)))
        assert sender.connects == before + 1
    finally:
        await sender.aclose()
    assert len({m["Message-ID"] for m in inbox.messages}) == 42


async def test_smtp_reconnects_when_the_server_dropped_a_kept_connection() -> None:
    inbox = Inbox()
    port = _free_port()
    first = Controller(inbox, hostname="127.0.0.1", port=port)
    first.start()
    from app.adapters.mailer import SmtpSender

    sender = SmtpSender(f"smtp://127.0.0.1:{port}", max_connections=2)
    try:
        await sender.send(Mail.of(_message(1)))
        first.stop()  # the kept connection dies with the server
        second = Controller(inbox, hostname="127.0.0.1", port=port)
        second.start()
        try:
            await sender.send(Mail.of(_message(2)))  # on a new connection, no error
        finally:
            second.stop()
        assert sender.connects == 2
        # The server gone for good: an error the worker records and retries, no hang.
        from app.services.ports import MailError

        with pytest.raises(MailError) as failed:
            await sender.send(Mail.of(_message(3)))
        assert not failed.value.permanent
    finally:
        await sender.aclose()
    assert [m["Subject"] for m in inbox.messages] == ["message 1", "message 2"]
