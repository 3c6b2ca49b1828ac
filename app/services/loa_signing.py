"""The LOA signing page's use cases: the signed link, the letter it shows, signing it.

The link carries an itsdangerous token (the LOA SID, signed with a key derived from the
secret key, stamped with the time it was made) that expires after
PORTICO_LOA_LINK_MAX_AGE_SECONDS (default 7 days). The letter's text is built here, so the
page shows exactly what is hashed: signing records the SHA-256 of that text, and a letter that
changed between showing and signing (an order canceled meanwhile) must be read again.
"""

from __future__ import annotations

import enum

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.porting.errors import PortingError
from app.porting.statuses import LoaStatus
from app.services import loas
from app.services.context import Services
from app.services.letters import Letter, letter_of
from app.store import queries
from app.store.secrets import derive_key

SALT = "loa-signing-link"
MAX_NAME = 200


class Problem(enum.StrEnum):
    INVALID = "invalid"  # tampered, truncated, or not ours
    EXPIRED = "expired"
    USED = "used"  # the letter is already signed
    CLOSED = "closed"  # canceled, in review, or covering no number any more


class SigningLinkError(Exception):
    def __init__(self, problem: Problem, letter: Letter | None = None):
        super().__init__(problem.value)
        self.problem = problem
        self.letter = letter


class SigningInputError(Exception):
    """The form was not complete (or the letter changed): show it again with `messages`."""

    def __init__(self, messages: list[str], letter: Letter):
        super().__init__("; ".join(messages))
        self.messages = messages
        self.letter = letter


def _serializer(svc: Services) -> URLSafeTimedSerializer:
    clock = svc.clock

    class _ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    key = derive_key(svc.settings.resolved_secret_key, SALT)
    return URLSafeTimedSerializer(key, salt=SALT, signer=_ClockSigner)


def signing_link(svc: Services, loa_sid: str) -> str:
    token = _serializer(svc).dumps({"loa": loa_sid})
    return svc.settings.url_for(f"/loa/sign/{token}")


def _loa_sid_of(svc: Services, token: str) -> str:
    try:
        data = _serializer(svc).loads(token, max_age=svc.settings.loa_link_max_age_seconds)
    except SignatureExpired:
        raise SigningLinkError(Problem.EXPIRED) from None
    except BadSignature:
        raise SigningLinkError(Problem.INVALID) from None
    if not isinstance(data, dict) or not isinstance(data.get("loa"), str):
        raise SigningLinkError(Problem.INVALID)
    return str(data["loa"])


async def open_letter(svc: Services, token: str) -> Letter:
    """The letter a link shows; SigningLinkError when it cannot be signed through it."""
    loa_sid = _loa_sid_of(svc, token)
    async with svc.db.read() as s:
        loa = await queries.loa(s, loa_sid, None)
        orders = list(await queries.port_orders_of_loa(s, loa_sid)) if loa else []
    if loa is None:
        raise SigningLinkError(Problem.INVALID)
    letter = letter_of(loa, orders)
    if loa.status == LoaStatus.SIGNED.value:
        raise SigningLinkError(Problem.USED, letter)
    if loa.status != LoaStatus.SIGNING.value or not letter.numbers:
        raise SigningLinkError(Problem.CLOSED, letter)
    return letter


def _name_matches(typed: str, letter_signer: str) -> bool:
    words = set(typed.casefold().replace(".", " ").replace(",", " ").split())
    return all(w in words for w in letter_signer.casefold().split())


async def sign_letter(
    svc: Services,
    token: str,
    *,
    signer_name: str,
    agreed: bool,
    shown_sha256: str,
    ip: str | None,
    user_agent: str | None,
) -> Letter:
    letter = await open_letter(svc, token)
    if shown_sha256 != letter.text_sha256:
        raise SigningInputError(
            ["This letter changed after the page was opened. Please read it again, then sign."],
            letter,
        )
    name = " ".join(signer_name.split())
    messages: list[str] = []
    if not name:
        messages.append("Type your full name to sign.")
    elif len(name) > MAX_NAME or not _name_matches(name, letter.signer):
        messages.append(f"Type your full name as it appears on the letter: {letter.signer}.")
    if not agreed:
        messages.append("Tick the box to authorise the transfer.")
    if messages:
        raise SigningInputError(messages, letter)
    signature = loas.Signature(name, ip, (user_agent or "")[:512] or None, letter.text_sha256)
    try:
        await loas.sign(svc, letter.loa_sid, signature)
    except PortingError as exc:
        if exc.code == 20409:
            raise SigningInputError(
                ["The letter was being changed at the same moment. Please try again."], letter
            ) from None
        await open_letter(svc, token)  # raises the reason it can no longer be signed
        raise SigningLinkError(Problem.CLOSED) from None
    return letter
