"""A real SMTP receiver's handler (aiosmtpd): keeps every message, envelope and login."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds before each 250

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        assert envelope.mail_from is not None and isinstance(envelope.content, bytes)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        ok = auth_data.password == b"s3cr3t-pw"
        return AuthResult(success=ok, handled=False)

    def by_subject(self, fragment: str) -> EmailMessage:
        """The one message whose subject contains `fragment` (ends with it, for ": X")."""
        (found,) = [
            m
            for m in self.messages
            if (
                str(m["Subject"]).endswith(fragment)
                if fragment[0] == ":"
                else fragment in str(m["Subject"])
            )
        ]
        return found
