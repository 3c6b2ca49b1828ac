"""The email senders (app/services/ports.EmailSender): SMTP (aiosmtplib) and the embedded
outbox (.eml files).

PORTICO_SMTP_URL: `smtp://user:pass@host:port` (STARTTLS when the server offers it, login
when a user is given; `smtp://host:port` sends without login) or `smtps://...` (TLS from the
start). Unset: every message is written to var/mail/ as an .eml file and one line is logged.
No log line carries a password, a message body or a link.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.config import Settings
from app.services.ports import EmailSender, MailError

log = logging.getLogger(__name__)


class SmtpSender:
    def __init__(self, url: str, timeout: float = 30.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PORTICO_SMTP_URL must look like smtp://user:pass@host:port")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host}:{self.port}, user={self.username!r})"

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self._password if self.username else None,
                use_tls=self.implicit_tls,
                start_tls=False if self.implicit_tls else None,  # None: STARTTLS when offered
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise MailError("recipient refused by the SMTP server", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600 and exc.code != 530  # 530: auth/TLS setup
            raise MailError(f"SMTP {exc.code}: {exc.message}"[:300], permanent) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(f"SMTP {type(exc).__name__}: {exc}"[:300]) from exc
        # Never the recipient (personal data), nor the Message-ID (it holds an address form).
        log.info("mail (%s) sent via SMTP %s:%s", message["X-Portico-Kind"], self.host, self.port)


class OutboxSender:
    """The embedded default: each message becomes one .eml file in `directory`."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        ident = re.sub(r"[^A-Za-z0-9]", "", str(message["Message-ID"] or ""))[:40] or "message"
        path = self.directory / f"{stamp}-{ident}.eml"
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(message.as_bytes())
            os.replace(tmp, path)
        except OSError as exc:
            raise MailError(f"cannot write {path}: {exc.strerror}") from exc
        log.info("mail (%s) written to %s", message["X-Portico-Kind"], path)  # not its recipient


def sender_from_settings(settings: Settings) -> EmailSender:
    if settings.smtp_url:
        return SmtpSender(settings.smtp_url)
    return OutboxSender(settings.mail_dir)
