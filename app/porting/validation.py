"""Input checks for port orders (CONTRACT.md §2, §7): raw values in, normalized fields out.

Pure: no I/O. Every failure of one request is collected and raised together as
`PortingErrors`, ordered by field (the order of `_RULES`). Messages never echo the
write-only values (SSN, account number, PIN). The fields themselves (`PortOrderFields`,
`WRITE_ONLY`) are declared in app/porting/fields.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import pycountry
import zipcodes
from email_validator import EmailNotValidError, validate_email

from app.porting.errors import PortingError, PortingErrors
from app.porting.fields import MAX_FRIENDLY_NAME, REQUIRED, VALUES, Field
from app.porting.fields import WRITE_ONLY as WRITE_ONLY
from app.porting.fields import PortOrderFields as PortOrderFields
from app.porting.statuses import PortType
from app.porting.text import BAD_CHARACTERS as BAD_CHARACTERS
from app.porting.text import TOO_LONG as TOO_LONG
from app.porting.text import refused_text as refused_text

_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in VALUES)
_INPUT_KEYS = frozenset(_FIELD_NAMES)
_DECLARED: dict[str, Field] = {f.name: f for f in VALUES}


MAX_SIGNER_NAME = 64
MAX_CC_EMAILS = 20
MAX_URL = 2048

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_NUMBER_SEPARATORS = re.compile(r"[\s().-]")
_SSN4 = re.compile(r"[0-9]{4}")
_PIN = re.compile(r"[A-Za-z0-9]{1,20}")
_ALPHA2 = re.compile(r"[A-Z]{2}")
_ZIP = re.compile(r"([0-9]{5})(?:-?([0-9]{4}))?")
_NAME_PUNCTUATION = frozenset(" -.'\u2019\u02bc\u2010\u2011")
_CITY_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}


# ---------------------------------------------------------------------------------------------
# Public API


def validate_create(raw: Mapping[str, object]) -> PortOrderFields:
    """Validate a create request; raise `PortingErrors` with every failure."""
    return _validate({k: v for k, v in raw.items() if k in _INPUT_KEYS})


def validate_update(current: PortOrderFields, raw: Mapping[str, object]) -> PortOrderFields:
    """Merge `raw` over `current` and validate the result as a whole (same rules as create).

    A key present with None or "" clears that field (a required one then reports "missing").
    When the number changes the port type is detected again unless `port_type` is given, and a
    friendly name that was the old number's default follows the new number.
    """
    merged: dict[str, object] = {name: getattr(current, name) for name in _FIELD_NAMES}
    overrides = {k: v for k, v in raw.items() if k in _INPUT_KEYS}
    merged.update(overrides)
    if "number" in overrides:
        new_number = overrides["number"]
        new_e164 = _to_e164(new_number.strip()) if isinstance(new_number, str) else None
        if new_e164 != current.number:
            if "port_type" not in overrides:
                merged["port_type"] = None
            if "friendly_name" not in overrides and current.friendly_name == _national(
                current.number
            ):
                merged["friendly_name"] = None
    return _validate(merged)


def detect_port_type(e164: str) -> PortType:
    """The port type the numbering plan tells; UNKNOWN where it does not (e.g. US/CA)."""
    known = _phone(e164)
    if known is not None:
        return known.port_type
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return PortType.UNKNOWN
    return _type_of(parsed)


def _type_of(parsed: phonenumbers.PhoneNumber) -> PortType:
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return PortType.TOLL_FREE
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return PortType.MOBILE
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        return PortType.LANDLINE
    return PortType.UNKNOWN


# ---------------------------------------------------------------------------------------------
# The checker: reads raw values, records failures


class _Checker:
    def __init__(self, raw: Mapping[str, object]) -> None:
        self.raw = raw
        self.errors: list[PortingError] = []
        self.present: set[str] = set()  # fields given a non-empty value, valid or not

    def fail(self, code: int, name: str, message: str = "") -> None:
        self.errors.append(PortingError(code, message, name))

    def allowed(self, name: str, value: str) -> bool:
        """The field's declared length and character policy (fields.py), checked before any
        other rule reads the value; a failure names the field, never the value."""
        declared = _DECLARED.get(name)
        if declared is None or declared.max_length is None:
            return True
        refusal = refused_text(value, declared.max_length, declared.chars)
        if refusal is None:
            return True
        self.present.add(name)
        if refusal == TOO_LONG:
            code = declared.too_long_code
            self.fail(code, name, f"{name} is too long: at most {declared.max_length} characters")
        else:
            self.fail(BAD_CHARACTERS, name, f"{name} contains characters that are not allowed")
        return False

    def text(self, name: str, invalid: int = 20001) -> str | None:
        """A stripped string (numbers accepted), or None when missing or of the wrong type."""
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            if not self.allowed(name, value):
                return None
            value = value.strip()
            if not value:
                return None
            self.present.add(name)
            return value
        self.present.add(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        self.fail(invalid, name, f"Invalid {name}: expected a string")
        return None

    def required(self, name: str, missing: int, invalid: int = 20001) -> str | None:
        value = self.text(name, invalid)
        if name not in self.present:
            self.fail(missing, name)
        return value

    def email(self, name: str, missing: int | None = None) -> str | None:
        value = self.required(name, missing, 21818) if missing else self.text(name, 21818)
        if value is None:
            return None
        normalized = _normalize_email(value)
        if normalized is None:
            self.fail(21818, name, f"Email invalid: {name}")
        return normalized

    def phone(self, name: str, missing: int | None, invalid: int) -> str | None:
        value = self.required(name, missing, invalid) if missing else self.text(name, invalid)
        if value is None:
            return None
        e164 = _to_e164(value)
        if e164 is None:
            self.fail(invalid, name)
        return e164

    def matching(self, name: str, pattern: re.Pattern[str], invalid: int) -> str | None:
        value = self.text(name, invalid)
        if value is not None and not pattern.fullmatch(value):
            self.fail(invalid, name)
            return None
        return value


def _validate(raw: Mapping[str, object]) -> PortOrderFields:
    c = _Checker(raw)
    v: dict[str, Any] = {}
    for name, rule in _RULES.items():
        v[name] = rule(c, name, v)
    if v["iso_country"] == "US" and v["region"] is not None:
        v["region"], v["postal_code"] = _check_us_address(
            c, v["region"], v["city"], v["postal_code"]
        )
    if v["port_type"] is PortType.MOBILE:
        _check_mobile(c)

    if c.errors:
        c.errors.sort(key=lambda e: _RULE_ORDER.get(e.field or "", len(_RULE_ORDER)))
        raise PortingErrors(c.errors)
    assert all(v[name] for name in REQUIRED)
    return PortOrderFields(**v)


# (checker, the field's name, the values checked before it) -> the field's value or None
_Rule = Callable[[_Checker, str, dict[str, Any]], object]


def _friendly_name(c: _Checker, name: str, v: dict[str, Any]) -> str:
    value = c.text(name) or (_national(v["number"]) if v["number"] else "")
    if len(value) > MAX_FRIENDLY_NAME:
        c.fail(20002, name)
    return value


# The rule of every field, in the order they are checked: the order of the errors too.
_RULES: dict[str, _Rule] = {
    "number": lambda c, name, v: c.phone(name, 21801, 21812),
    "port_type": lambda c, name, v: _port_type(c, v["number"]),
    "friendly_name": _friendly_name,
    "iso_country": lambda c, name, v: _country(c, name),
    "region": lambda c, name, v: c.required(name, 21803),
    "city": lambda c, name, v: c.required(name, 21804),
    "postal_code": lambda c, name, v: c.required(name, 21805),
    "street": lambda c, name, v: c.required(name, 21806),
    "first_name": lambda c, name, v: _signer_name(c, name, 21807),
    "last_name": lambda c, name, v: _signer_name(c, name, 21808),
    "email": lambda c, name, v: c.email(name, 21811),
    "company_name": lambda c, name, v: c.text(name),
    "status_updates_email": lambda c, name, v: c.email(name),
    "ssn_last_four": lambda c, name, v: c.matching(name, _SSN4, 21817),
    "account_number": lambda c, name, v: c.text(name),
    "pin_number": lambda c, name, v: c.matching(name, _PIN, 21816),
    "billing_phone_number": lambda c, name, v: c.phone(name, None, 21815),
    "activation_date": lambda c, name, v: _activation_date(c, name),
    "status_callback": lambda c, name, v: _status_callback(c, name),
    "cc_emails": lambda c, name, v: _cc_emails(c, name),
}
_RULE_ORDER: dict[str, int] = {name: i for i, name in enumerate(_RULES)}
if set(_RULES) != _INPUT_KEYS:  # every value of PortOrderFields has its rule, and only they
    raise TypeError(f"validation rules differ from the fields: {set(_RULES) ^ _INPUT_KEYS}")


# ---------------------------------------------------------------------------------------------
# Field rules


def to_e164(value: str) -> str | None:
    """The number in E.164 if it is a valid number of its plan, else None."""
    return _to_e164(value)


@dataclass(frozen=True)
class _Phone:
    """What validation asks of a valid number, from one parse."""

    e164: str
    port_type: PortType
    national: str


# A number is parsed once for its E.164 form, its type and its national format; a Port Request
# validates its shared billing number once per number.
@lru_cache(maxsize=4096)
def _phone(value: str) -> _Phone | None:
    compact = _NUMBER_SEPARATORS.sub("", value)
    if not _E164.fullmatch(compact):
        return None
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return _Phone(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        _type_of(parsed),
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL),
    )


def _to_e164(value: str) -> str | None:
    known = _phone(value)
    return known.e164 if known is not None else None


def _national(e164: str) -> str:
    known = _phone(e164)
    if known is not None:
        return known.national
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _port_type(c: _Checker, number: str | None) -> PortType:
    """The stated port type (any case), else the one the number's plan tells."""
    value = c.raw.get("port_type")
    if isinstance(value, PortType):
        return value
    if isinstance(value, str) and not c.allowed("port_type", value):
        return detect_port_type(number) if number else PortType.UNKNOWN
    if isinstance(value, str) and value.strip():
        try:
            return PortType(re.sub(r"[\s-]+", "_", value.strip().upper()))
        except ValueError:
            pass
    if value is not None and not (isinstance(value, str) and not value.strip()):
        allowed = ", ".join(t.value for t in PortType)
        c.fail(20001, "port_type", f"Invalid port_type: must be one of {allowed}")
    return detect_port_type(number) if number else PortType.UNKNOWN


def _country(c: _Checker, name: str) -> str | None:
    value = c.required(name, 21802, 21813)
    if value is None:
        return None
    code = value.upper()
    if not _ALPHA2.fullmatch(code) or pycountry.countries.get(alpha_2=code) is None:
        c.fail(21813, name)
        return None
    return code


def _signer_name(c: _Checker, name: str, missing: int) -> str | None:
    value = c.required(name, missing, 21828)
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value)
    if not _is_person_name(value):
        c.fail(21828, name, f"Signer name invalid: {name}")
        return None
    return value


def _is_person_name(value: str) -> bool:
    """Letters of any script (with their marks), spaces, hyphens, apostrophes and periods."""
    if len(value) > MAX_SIGNER_NAME:
        return False
    has_letter = False
    for ch in value:
        category = unicodedata.category(ch)
        if category[0] == "L":
            has_letter = True
        elif category[0] != "M" and category != "Zs" and ch not in _NAME_PUNCTUATION:
            return False
    return has_letter


@lru_cache(maxsize=4096)  # a Port Request validates its shared addresses once per number
def _normalize_email(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _activation_date(c: _Checker, name: str) -> datetime | None:
    value = c.raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    c.present.add(name)
    if isinstance(value, str) and not c.allowed(name, value):
        return None
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        c.fail(21814, name)
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        c.fail(21814, name)
        return None


def _status_callback(c: _Checker, name: str) -> str | None:
    value = c.text(name, 21819)
    if value is not None and not _is_http_url(value):
        c.fail(21819, name)
        return None
    return value


def _is_http_url(value: str) -> bool:
    if len(value) > MAX_URL or any(ch.isspace() or not ch.isprintable() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _cc_emails(c: _Checker, name: str) -> list[str]:
    value = c.raw.get(name)
    items: list[object]
    if value is None:
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        if "," in value:
            c.fail(21820, name, "cc_emails must be a list of addresses, not one joined string")
            return []
        items = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        c.fail(21820, name, "cc_emails must be a list of email addresses")
        return []
    c.present.add(name)
    if len(items) > MAX_CC_EMAILS:
        c.fail(21820, name, f"cc_emails holds at most {MAX_CC_EMAILS} addresses")
        return []
    result: list[str] = []
    bad: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str) and not c.allowed(name, item):
            return []
        normalized = _normalize_email(item.strip()) if isinstance(item, str) else None
        if normalized is None:
            bad.append(str(i))
        else:
            result.append(normalized)
    if bad:
        c.fail(21820, name, f"An address in cc_emails is invalid (index {', '.join(bad)})")
    return result


def _check_mobile(c: _Checker) -> None:
    """MOBILE orders need the losing carrier's account number, the SSN last four and a PIN."""
    no_account = "account_number" not in c.present
    no_ssn = "ssn_last_four" not in c.present
    if no_account and no_ssn:
        c.fail(21836, "account_number")
    elif no_account:
        c.fail(21809, "account_number")
    elif no_ssn:
        c.fail(21824, "ssn_last_four")
    if "pin_number" not in c.present:
        c.fail(21810, "pin_number")


# ---------------------------------------------------------------------------------------------
# US service addresses


def _check_us_address(
    c: _Checker, region: str, city: str | None, postal_code: str | None
) -> tuple[str, str | None]:
    """Check state, ZIP and city against each other; return the normalized region and ZIP."""
    state = region.upper().removeprefix("US-")
    region_ok = _is_us_state(state)
    if region_ok:
        region = state
    else:
        c.fail(21834, "region", "Region must be a US state or territory code, e.g. CA")
    if postal_code is None:
        return region, None
    if isinstance(c.raw.get("postal_code"), int | float) and len(postal_code) < 5:
        postal_code = postal_code.zfill(5)  # a JSON number lost the ZIP's leading zeros
    m = _ZIP.fullmatch(postal_code)
    if m is None:
        c.fail(21834, "postal_code", "Postal code must be a 5-digit ZIP code or ZIP+4")
        return region, postal_code
    postal_code = f"{m[1]}-{m[2]}" if m[2] else m[1]
    records = _zip_records(m[1])
    if not records:
        c.fail(21834, "postal_code", "ZIP code does not exist")
        return region, postal_code
    if region_ok and all(st != state for st, _ in records):
        c.fail(21834, "postal_code", "ZIP code is not in the region given")
        return region, postal_code
    if city is not None:
        known = [names for st, names in records if names and (not region_ok or st == state)]
        wanted = _city_key(city)
        if known and not any(wanted in names for names in known):
            c.fail(21834, "city", "City does not match the ZIP code")
    return region, postal_code


@lru_cache(maxsize=1)
def _us_states() -> frozenset[str]:
    subdivisions = pycountry.subdivisions.get(country_code="US") or []
    return frozenset(s.code.removeprefix("US-") for s in subdivisions)


def _is_us_state(code: str) -> bool:
    return code in _us_states()


@lru_cache(maxsize=4096)
def _zip_records(zip5: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """(state, normalized acceptable city names) for each record of a 5-digit ZIP."""
    try:
        rows = zipcodes.matching(zip5)
    except (TypeError, ValueError):
        return ()
    out: list[tuple[str, frozenset[str]]] = []
    for row in rows:
        names = [row.get("city"), *(row.get("acceptable_cities") or [])]
        keys = frozenset(_city_key(n) for n in names if isinstance(n, str) and n.strip())
        out.append((str(row.get("state") or "").upper(), keys))
    return tuple(out)


def _city_key(name: str) -> str:
    """Ignore case, accents, punctuation, abbreviations: "St. Louis" == "SAINT LOUIS"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = re.sub(r"[^0-9a-z]+", " ", plain).split()
    return " ".join(_CITY_ABBREVIATIONS.get(w, w) for w in words)
