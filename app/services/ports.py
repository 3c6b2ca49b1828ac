"""The side-effect protocols the use cases talk through, implemented in app/adapters.

The carrier adapter's protocol lives with the rules (app/porting/carrier.py: its answers are
porting data); these two are plain delivery channels. Which implementation runs is chosen
where a process starts (app/wiring.py); tests hand in the recording ones.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Protocol


@dataclass(frozen=True)
class HttpResult:
    """What happened to one POST: a status code, or an error (None when an answer came)."""

    status_code: int | None = None
    error: str | None = None
    # True when trying again cannot help (the target is not allowed at all).
    permanent: bool = False
    latency_ms: float | None = None


class HttpSender(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult: ...


class MailError(Exception):
    """Sending failed; `permanent` when the server refused for good (5xx)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Mail:
    """One composed message (app/services/mails.py), in one of two forms: `data`, its bytes
    as written directly (ASCII throughout, "\n" line ends: the common case, cheap), or
    `message`, an EmailMessage the email package built (non-ASCII content), which the SMTP
    sender flattens for the server it talks to. The envelope and the log's fields beside."""

    kind: str  # X-Portico-Kind: what a log line may name (never the recipient)
    message_id: str
    sender: str  # the envelope's MAIL FROM
    recipients: tuple[str, ...]
    data: bytes | None = None
    message: EmailMessage | None = None

    def as_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.message is not None
        return self.message.as_bytes()

    def as_message(self) -> EmailMessage:
        """The email package's view (tests, the recording sender)."""
        if self.message is not None:
            return self.message
        parsed = email.message_from_bytes(self.as_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @classmethod
    def of(cls, message: EmailMessage) -> Mail:
        """A message built elsewhere (tests), with its envelope from its headers."""
        to = [addr for _, addr in getaddresses([str(v) for v in message.get_all("To", [])])]
        return cls(
            kind=str(message["X-Portico-Kind"] or ""),
            message_id=str(message["Message-ID"] or ""),
            sender=parseaddr(str(message["From"] or ""))[1],
            recipients=tuple(to),
            message=message,
        )


class EmailSender(Protocol):
    async def send(self, mail: Mail) -> None:
        """Send or store one message; MailError when it did not go."""
