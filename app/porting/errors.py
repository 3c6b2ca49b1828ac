"""One error type with a code: the catalog of CONTRACT.md §7 plus Twilio's generic codes.

Services raise `PortingError` (one failure) or `PortingErrors` (a validation run's list).
Each transport maps them once: REST to Twilio's error body, GraphQL to `userErrors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# code -> (default message, HTTP status for REST)
CATALOG: dict[int, tuple[str, int]] = {
    20001: ("Invalid parameter", 400),
    20002: ("Invalid FriendlyName: at most 64 characters", 400),
    20003: ("Authentication failed", 401),
    20403: ("Forbidden", 403),
    20404: ("The requested resource was not found", 404),
    20409: ("The resource was changed by a concurrent request; retry", 409),
    20413: ("Request body too large", 413),
    20415: ("Unsupported content type", 415),
    20420: ("Query too costly: its estimated nodes pass the limit", 400),
    20422: ("Idempotency key reused with a different request", 422),
    20429: ("Too many requests", 429),
    20503: ("Service unavailable: the database cannot be reached; retry shortly", 503),
    21801: ("Number missing", 400),
    21802: ("Service address country missing", 400),
    21803: ("Service address region missing", 400),
    21804: ("Service address city missing", 400),
    21805: ("Service address postal code missing", 400),
    21806: ("Service address street missing", 400),
    21807: ("Signer first name missing", 400),
    21808: ("Signer last name missing", 400),
    21809: ("Account number missing (required for mobile numbers)", 400),
    21810: ("PIN missing (required for mobile numbers)", 400),
    21811: ("Signer email missing", 400),
    21812: ("Number invalid: must be a valid E.164 number", 400),
    21813: ("Country code invalid: must be ISO 3166-1 alpha-2", 400),
    21814: ("Activation date invalid: must be an ISO 8601 date-time with a zone", 400),
    21815: ("Billing phone number invalid: must be a valid E.164 number", 400),
    21816: ("PIN invalid", 400),
    21817: ("SSN last four invalid: must be four digits", 400),
    21818: ("Email invalid", 400),
    21819: ("Status callback URL invalid: must be an http or https URL", 400),
    21820: ("An address in cc_emails is invalid", 400),
    21822: ("Status invalid", 400),
    21824: ("SSN last four missing (required for mobile numbers)", 400),
    21825: ("BeforeSid invalid", 400),
    21826: ("AfterSid invalid", 400),
    21827: ("Number cannot be ported", 400),
    21828: ("Signer name invalid", 400),
    21829: ("Order can no longer be modified", 400),
    21830: ("Order can no longer be canceled", 400),
    21831: ("Losing carrier refused the port", 400),
    21832: ("A mobile order cannot be canceled after its LOA is signed", 400),
    21833: ("Order cannot be canceled within 48 hours of its FOC date", 400),
    21834: ("Service address street does not match city, region and postal code", 400),
    21835: ("Order cannot be completed", 400),
    21836: ("Account number and SSN last four missing (required for mobile numbers)", 400),
    21837: ("Number already in another open port order", 400),
    21838: ("Number already in our inventory", 400),
    21839: ("Number given more than once in this port request", 400),
    21840: ("A port request needs at least one number", 400),
    21841: ("Too many numbers in one port request", 400),
    21850: ("Comment body invalid: 1 to 10,000 characters of text", 400),
    21851: (
        "Document type invalid: one of utility_bill, invoice, csr, loa, other",
        400,
    ),
    21852: ("Document file missing: send it as the multipart part `file`", 400),
    21853: ("Document refused: only PDF, PNG and JPEG files are accepted", 400),
    21854: ("Document too large", 413),
    21855: ("Upload must be multipart/form-data with a boundary", 415),
    21856: (
        "Exception type invalid: one of ACCOUNT_NUMBER_MISMATCH, PIN_INVALID, NAME_MISMATCH, "
        "ADDRESS_MISMATCH, BTN_MISMATCH, NUMBER_NOT_PORTABLE, OTHER",
        400,
    ),
    21857: ("fields_to_fix invalid: names of the order's fields", 400),
    21858: ("An exception is given only with the status REJECTED", 400),
    21860: ("Value too long for this field", 400),
    21861: ("Value contains characters that are not allowed in this field", 400),
    21901: ("LOA SID invalid", 400),
    21904: ("LOA status invalid", 400),
    21905: ("LOA signature already requested", 400),
}

NOT_FOUND = 20404
FORBIDDEN = 20403
CONFLICT = 20409


@dataclass
class PortingError(Exception):
    """An expected failure: a catalog code, a message, and the input field it concerns.

    Not a frozen dataclass: Python sets `__traceback__` on exceptions as they propagate (e.g.
    out of an `asynccontextmanager` such as `Services.transaction()`), which a frozen dataclass
    refuses with FrozenInstanceError."""

    code: int
    message: str = ""
    field: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CATALOG:
            raise ValueError(f"unknown error code {self.code}")
        if not self.message:
            self.message = CATALOG[self.code][0]
        super().__init__(self.code, self.message, self.field)

    def __hash__(self) -> int:
        return hash((self.code, self.message, self.field))

    @property
    def http_status(self) -> int:
        return CATALOG[self.code][1]

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.code}: {self.message}{where}"


class PortingErrors(Exception):
    """Every failure of one request, reported together (validation)."""

    def __init__(self, errors: Iterable[PortingError]):
        self.errors = list(errors)
        if not self.errors:
            raise ValueError("PortingErrors needs at least one error")
        super().__init__("; ".join(str(e) for e in self.errors))

    @property
    def first(self) -> PortingError:
        return self.errors[0]


def error(code: int, field: str | None = None, message: str = "") -> PortingError:
    return PortingError(code, message, field)


def as_list(exc: PortingError | PortingErrors) -> list[PortingError]:
    return exc.errors if isinstance(exc, PortingErrors) else [exc]
