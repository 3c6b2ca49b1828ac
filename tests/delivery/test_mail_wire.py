"""A mail written directly is byte for byte the email package's; anything the direct path does
not handle goes to the email package."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest

from app.services import mail_wire, mails

DATE = "Tue, 01 Dec 2026 19:33:37 +0000"
BOUNDARY = "=_portico_0ffb897c2e142bf5bb4e238f1c48e7a1"


def headers(**changes: str) -> dict[str, str]:
    base = {
        "From": "Portico Porting <porting@portico.localhost>",
        "To": "james.smith@example.com",
        "Subject": "Port order for (415) 555-2000: PENDING",
        "Date": DATE,
        "Message-ID": "<DL0123456789abcdef0123456789abcdef@portico.localhost>",
        "X-Portico-Kind": "status_update",
    }
    return {**base, **changes}


ORDER: dict[str, Any] = {
    "signer": "James",
    "business_name": "Acme Telecom",
    "number": "(415) 555-2000",
    "friendly_name": "Main line",
    "status": "REJECTED",
    "status_text": mails.STATUS_TEXT["REJECTED"],
    "foc_date": "01 December 2026, 16:00 UTC",
    "reason": "The name on the account does not match",
    "errors": [{"code": "NAME_MISMATCH", "reason": "<b>name</b> & co", "date": None}],
    "order_sid": "PO0123456789abcdef0123456789abcdef",
    "subject": "Port order for (415) 555-2000: REJECTED",
}
LOA: dict[str, Any] = {
    "signer": "James Smith",
    "numbers": ["(415) 555-2000", "(415) 555-2001"],
    "business_name": None,
    "address": "645 Harrison St, San Francisco, CA 94107",
    "link": "https://portico.example/loa/sign/" + "x" * 300,
    "valid_days": 7,
    "subject": "Please sign to transfer 2 numbers to Portico",
}
COMMENT: dict[str, Any] = {
    "author": "The porting team",
    "about": "the port order for (415) 555-2000",
    "body": "Please send\na bill.\n\n. A line with a dot\nFrom here on",
    "subject_sid": "PO0123456789abcdef0123456789abcdef",
    "comments_url": "https://portico.example/porting/PortOrders/PO01/Comments",
    "subject": "New comment on the port order for (415) 555-2000",
}


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        ("status_update", ORDER),
        ("cc", ORDER),
        ("loa_signature", LOA),
        ("comment", COMMENT),
    ],
)
def test_the_templates_written_directly_are_the_email_packages_bytes(
    kind: str, context: dict[str, Any]
) -> None:
    text, html = mails.render(kind, context)
    h = headers(Subject=context["subject"], **{"X-Portico-Kind": kind})
    direct = mail_wire.plain(h, text, html, BOUNDARY)
    assert direct is not None
    assert direct == mail_wire.message(h, text, html, BOUNDARY).as_bytes()


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("one line", "<p>x</p>"),
        ("ends with its newline\n", "<p>x</p>\n"),
        ("windows\r\nline\rends\n\n\n", "<p>\r\n</p>"),
        ("", ""),
        ("x" * 998, "<p>" + "y" * 995),
        ("  leading spaces\n\ttabs\t\n", " "),
    ],
)
def test_bodies_written_directly_are_the_email_packages_bytes(text: str, html: str) -> None:
    direct = mail_wire.plain(headers(), text, html, BOUNDARY)
    assert direct is not None
    assert direct == mail_wire.message(headers(), text, html, BOUNDARY).as_bytes()


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({}, "Hello José"),  # a non-ASCII body: 8bit, the email package decides
        ({}, "x" * 999),  # a line too long for 7bit
        ({"Subject": "Port order for Zoë"}, "ok"),
        ({"Subject": "=?utf-8?q?encoded?="}, "ok"),
        ({"Subject": "two  spaces"}, "ok"),
        ({"Subject": "long " * 20}, "ok"),
        ({"From": '"Portico, Inc." <porting@portico.localhost>'}, "ok"),
        ({"From": "Pörtico <porting@portico.localhost>"}, "ok"),
        ({"To": "josé@example.com"}, "ok"),
        ({"To": "a@b.example, c@d.example"}, "ok"),
    ],
)
def test_anything_else_takes_the_email_package(changes: dict[str, str], text: str) -> None:
    assert mail_wire.plain(headers(**changes), text, "<p>x</p>", BOUNDARY) is None
    m = mail_wire.message(headers(**changes), text, "<p>x</p>", BOUNDARY)
    parsed = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content().rstrip("\n") == text
