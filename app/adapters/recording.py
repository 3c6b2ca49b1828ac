"""Recording senders: stand-ins for tests that only need to see what would have gone out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage

from app.services.ports import HttpResult, Mail


@dataclass
class RecordedRequest:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class RecordingHttpSender:
    """Answers every POST with `answer(request)` (default: 200) and keeps the requests."""

    answer: Callable[[RecordedRequest], HttpResult] = lambda _: HttpResult(200)
    requests: list[RecordedRequest] = field(default_factory=list)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        request = RecordedRequest(url, body, dict(headers))
        self.requests.append(request)
        return self.answer(request)


@dataclass
class RecordingEmailSender:
    mails: list[Mail] = field(default_factory=list)

    async def send(self, mail: Mail) -> None:
        self.mails.append(mail)

    @property
    def messages(self) -> list[EmailMessage]:
        """What was sent, as the email package reads it."""
        return [m.as_message() for m in self.mails]
