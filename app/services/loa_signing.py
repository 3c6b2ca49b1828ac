"""The LOA signing page's use cases: the signed link, the letter it shows, signing it.

The link carries an itsdangerous token (the LOA SID, signed with a key derived from the
secret key, stamped with the time it was made) that expires after
PORTICO_LOA_LINK_MAX_AGE_SECONDS (default 7 days). The letter's text is built here, so the
page shows exactly what is hashed: signing records the SHA-256 of that text, and a letter that
changed between showing and signing (an order canceled meanwhile) must be read again.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
import pycountry
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.porting.errors import PortingError
from app.porting.statuses import LoaStatus, PortOrderStatus
from app.services import loas
from app.services.context import Services
from app.store import queries
from app.store.secrets import derive_key
from app.store.tables import Loa, PortOrder

SALT = "loa-signing-link"
NOT_COVERED = frozenset(
    s.value for s in (PortOrderStatus.CANCELED, PortOrderStatus.REJECTED, PortOrderStatus.FAILED)
)
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


@dataclass(frozen=True)
class Letter:
    loa_sid: str
    status: str
    signer: str
    email: str
    business_name: str | None
    address: list[str]
    numbers: list[str]
    paragraphs: list[str]
    text: str
    text_sha256: str
    signed_by: str | None
    signed_date: datetime | None


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


def display_number(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _country(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name) if country is not None else code


def letter_of(loa: Loa, orders: list[PortOrder]) -> Letter:
    signer = f"{loa.first_name} {loa.last_name}"
    address = [loa.street, f"{loa.city}, {loa.region} {loa.postal_code}", _country(loa.iso_country)]
    numbers = [
        display_number(o.number)
        + (f" (current carrier: {o.current_carrier})" if o.current_carrier else "")
        for o in orders
        if o.status not in NOT_COVERED
    ]
    if loa.company_name:
        who = (
            f"I, {signer}, am authorised to act for {loa.company_name}, the account holder of "
            "the telephone numbers listed above at the service address above."
        )
    else:
        who = (
            f"I, {signer}, am the account holder of the telephone numbers listed above at the "
            "service address above."
        )
    paragraphs = [
        who,
        "I authorise Portico and the carriers it works with to act as my agent to transfer "
        "(port) these numbers from my current carrier to Portico, and to obtain from my current "
        "carrier the information needed to do so.",
        "I understand that my current carrier's service for these numbers ends when the "
        "transfer completes, and that I remain responsible for any amounts I owe my current "
        "carrier.",
        "I confirm that the information in this letter is correct.",
    ]
    lines = [
        f"Letter of Authorization {loa.sid}",
        f"Authorised signer: {signer} <{loa.email}>",
        f"Business name: {loa.company_name or '-'}",
        "Service address: " + ", ".join(address),
        "Numbers:",
        *(f"  {n}" for n in numbers),
        "",
        *paragraphs,
    ]
    text = "\n".join(lines) + "\n"
    return Letter(
        loa_sid=loa.sid,
        status=loa.status,
        signer=signer,
        email=loa.email,
        business_name=loa.company_name,
        address=address,
        numbers=numbers,
        paragraphs=paragraphs,
        text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        signed_by=loa.signer_name,
        signed_date=loa.signed_date,
    )


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
