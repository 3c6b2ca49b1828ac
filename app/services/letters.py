"""The Letter of Authorization's text (what the signing page shows, what is hashed and signed,
what its PDF prints): built once, here, from the LOA and the orders it covers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
import pycountry

from app.porting.statuses import PortOrderStatus
from app.store.tables import Loa, PortOrder

NOT_COVERED = frozenset(
    s.value for s in (PortOrderStatus.CANCELED, PortOrderStatus.REJECTED, PortOrderStatus.FAILED)
)


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
