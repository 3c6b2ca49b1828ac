"""The side-effect protocols the use cases talk through, implemented in app/adapters.

The carrier adapter's protocol lives with the rules (app/porting/carrier.py: its answers are
porting data); these two are plain delivery channels. Which implementation runs is chosen
where a process starts (app/wiring.py); tests hand in the recording ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
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


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Send or store one message; MailError when it did not go."""
