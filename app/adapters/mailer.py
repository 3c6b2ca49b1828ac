"""The email senders (app/services/ports.EmailSender): SMTP (aiosmtplib) and the embedded
outbox (.eml files).

PORTICO_SMTP_URL: `smtp://user:pass@host:port` (STARTTLS when the server offers it, login
when a user is given; `smtp://host:port` sends without login) or `smtps://...` (TLS from the
start). Connections are reused: a small pool per process (at most
PORTICO_DELIVERY_CONCURRENCY_PER_HOST of them), each closed after IDLE_SECONDS unused. Unset:
every message is written to var/mail/ as an .eml file and one line is logged.
No log line carries a password, a message body or a link.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.config import Settings
from app.services.ports import EmailSender, Mail, MailError

log = logging.getLogger(__name__)


IDLE_SECONDS = 30.0  # an SMTP connection unused this long is closed (QUIT)


class SmtpSender:
    """Sends over a small pool of reused SMTP connections: at most `max_connections` open at
    once (sends beyond that wait for one), each kept connected (logged in, after STARTTLS)
    between messages and closed after `idle_seconds` unused. A connection that failed is
    dropped; a message whose reused connection turns out to be gone (the server closed it
    while idle) is sent once more on a new one."""

    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        max_connections: int = 4,
        idle_seconds: float = IDLE_SECONDS,
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PORTICO_SMTP_URL must look like smtp://user:pass@host:port")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.max_connections = max(1, max_connections)
        self.idle_seconds = idle_seconds
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # most recently used last
        self._slots: asyncio.Semaphore | None = None
        self._reaper: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.connects = 0  # connections opened so far (tests, metrics)

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host}:{self.port}, user={self.username!r})"

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password if self.username else None,
            use_tls=self.implicit_tls,
            start_tls=False if self.implicit_tls else None,  # None: STARTTLS when offered
            timeout=self.timeout,
        )
        await client.connect()
        self.connects += 1
        return client

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < self.idle_seconds:
                return client
            self._discard(client)
        return None

    def _discard(self, client: aiosmtplib.SMTP, *, polite: bool = True) -> None:
        """Forget a connection: QUIT in the background when it is still up, else close."""
        if polite and client.is_connected:
            task = asyncio.get_running_loop().create_task(self._quit(client))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        else:
            client.close()

    async def _quit(self, client: aiosmtplib.SMTP) -> None:
        try:
            await client.quit(timeout=min(5.0, self.timeout))
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    def _reap(self) -> None:
        """Close the connections idle longer than `idle_seconds`; come back while any is left."""
        self._reaper = None
        now = time.monotonic()
        keep = []
        for client, since in self._idle:
            if now - since >= self.idle_seconds or not client.is_connected:
                self._discard(client)
            else:
                keep.append((client, since))
        self._idle = keep
        self._schedule_reap()

    def _schedule_reap(self) -> None:
        if self._reaper is None and self._idle:
            oldest = min(since for _, since in self._idle)
            delay = max(0.01, oldest + self.idle_seconds - time.monotonic())
            self._reaper = asyncio.get_running_loop().call_later(delay, self._reap)

    async def _send_on(self, client: aiosmtplib.SMTP, mail: Mail) -> None:
        if mail.message is not None:  # the email package's: flattened for this server
            await client.send_message(mail.message)
        else:  # ASCII throughout: as it is (aiosmtplib turns its line ends into CRLF)
            await client.sendmail(mail.sender, list(mail.recipients), mail.as_bytes())

    async def send(self, mail: Mail) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_connections)
        async with self._slots:
            client = self._take_idle()
            reused = client is not None
            try:
                if client is None:
                    client = await self._connect()
                try:
                    await self._send_on(client, mail)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                    if not reused:
                        raise
                    # Closed by the server while it sat idle: once more, on a new connection.
                    self._discard(client, polite=False)
                    client = None
                    client = await self._connect()
                    await self._send_on(client, mail)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                self._release(client)
                raise MailError("recipient refused by the SMTP server", permanent=True) from exc
            except aiosmtplib.SMTPResponseException as exc:
                self._release(client)
                permanent = 500 <= exc.code < 600 and exc.code != 530  # 530: auth/TLS setup
                raise MailError(f"SMTP {exc.code}: {exc.message}"[:300], permanent) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                if client is not None:
                    self._discard(client, polite=False)
                raise MailError(f"SMTP {type(exc).__name__}: {exc}"[:300]) from exc
            except BaseException:  # cancelled mid-conversation: the connection is unusable
                if client is not None:
                    self._discard(client, polite=False)
                raise
            self._release(client)
        # Never the recipient (personal data), nor the Message-ID (it holds an address form).
        log.info("mail (%s) sent via SMTP %s:%s", mail.kind, self.host, self.port)

    def _release(self, client: aiosmtplib.SMTP | None) -> None:
        """Back to the idle connections (after a refusal too: the client reset the session),
        or dropped when it is no longer connected."""
        if client is None:
            return
        if not client.is_connected:
            self._discard(client, polite=False)
            return
        self._idle.append((client, time.monotonic()))
        self._schedule_reap()

    async def aclose(self) -> None:
        """QUIT every open connection."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self._idle = self._idle, []
        for client, _ in idle:
            self._discard(client)
        await asyncio.gather(*self._closing, return_exceptions=True)


class OutboxSender:
    """The embedded default: each message becomes one .eml file in `directory`."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def send(self, mail: Mail) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        ident = re.sub(r"[^A-Za-z0-9]", "", mail.message_id)[:40] or "message"
        path = self.directory / f"{stamp}-{ident}.eml"
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(mail.as_bytes())
            os.replace(tmp, path)
        except OSError as exc:
            raise MailError(f"cannot write {path}: {exc.strerror}") from exc
        log.info("mail (%s) written to %s", mail.kind, path)  # not its recipient


def sender_from_settings(settings: Settings) -> EmailSender:
    if settings.smtp_url:
        return SmtpSender(
            settings.smtp_url,
            timeout=settings.smtp_timeout_seconds,
            max_connections=settings.delivery_concurrency_per_host,
        )
    return OutboxSender(settings.mail_dir)
