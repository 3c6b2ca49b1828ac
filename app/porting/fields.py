"""The fields of a Port Order, an LOA and a Port Request, each declared once, in output order
(CONTRACT.md §2, §3, §11).

Every layer takes its field lists from here: validation (`PortOrderFields`), the storage
mapping (`stored_values`, `write_only_values`, `fields_from`), the GraphQL object types, inputs
and filters, the REST serializer, the OpenAPI document and the REST list filters. A field is
write-only here and nowhere else, and the outputs take their fields from `rest_fields` and
`graphql_fields`, which never hold one: no layer can leak a write-only value by forgetting it.

Pure: no I/O, no framework; imports only app.porting.*.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any

from app.porting import sids
from app.porting.comments import AuthorType
from app.porting.documents import DocumentType
from app.porting.errors import PortingError
from app.porting.statuses import LoaStatus, PortOrderStatus, PortRequestStatus, PortType
from app.porting.text import BAD_CHARACTERS, TOO_LONG, refused_text
from app.porting.text import NAME as NAME
from app.porting.text import PLAIN as PLAIN

MAX_FRIENDLY_NAME = 64
WRITE_ONLY_NOTE = "Write-only: stored encrypted, never returned."

# The character policies of string inputs (PLAIN, NAME) are defined in app/porting/text.py
# (CONTRACT.md §7, "Input limits"); validation.py enforces them, for REST and GraphQL alike.
MAX_EMAIL = 254  # RFC 5321's path limit
FILTER_MAX = 255  # a list filter's text, where its field declares no input limit
CURSOR_MAX = 64  # a page cursor: a SID (34 characters) or an event id (at most 18 digits)


def plain_text_refusal(value: str, max_length: int, shown: str) -> PortingError | None:
    """Why a plain text parameter (no control characters) named `shown` on its transport is
    refused (21860 longer than `max_length`, 21861 a control character), or None."""
    refused = refused_text(value, max_length, PLAIN)
    if refused == TOO_LONG:
        return PortingError(
            TOO_LONG, f"{shown} is too long: at most {max_length} characters", shown
        )
    if refused == BAD_CHARACTERS:
        return PortingError(refused, f"{shown} contains characters that are not allowed", shown)
    return None


def cursor_refusal(value: str, shown: str) -> PortingError | None:
    """Why a page cursor (REST AfterSid/BeforeSid, GraphQL after/before) is refused before it
    is looked up, or None; `shown` is its name."""
    return plain_text_refusal(value, CURSOR_MAX, shown)


# ---------------------------------------------------------------------------------------------
# The shape of a declaration


@dataclass(frozen=True)
class Kind:
    """What a field's value is. Each layer maps a kind to its own type, schema and conversion."""

    name: str  # one of the constants below, or "sid" / "enum" (see `sid`, `enum_of`)
    prefix: str = ""  # sid: the SID's two-letter prefix (app/porting/sids.py)
    enum: type[enum.StrEnum] | None = None  # enum: stored as the member's value


TEXT = Kind("text")
E164 = Kind("e164")  # a phone number, +14155550123
COUNTRY = Kind("country")  # ISO 3166-1 alpha-2
DATETIME = Kind("datetime")  # timezone-aware, UTC
INT = Kind("int")
TEXT_LIST = Kind("text_list")
URL = Kind("url")  # absolute; computed (PORTICO_PUBLIC_URL + path)
ERRORS = Kind("errors")  # the order's errors (their own table); computed
COUNTS = Kind("counts")  # a Port Request's orders per status: {status: count}, every status
NUMBERS = Kind("numbers")  # a Port Request's numbers and what became of each; computed
SID_LIST = Kind("sid_list")  # a list of SIDs (Kind.prefix); computed
EXCEPTION = Kind("exception")  # a rejection's {type, fields_to_fix} (app/porting/exceptions.py)


def sid(prefix: str) -> Kind:
    return Kind("sid", prefix=prefix)


def enum_of(cls: type[enum.StrEnum]) -> Kind:
    return Kind("enum", enum=cls)


def sid_list(prefix: str) -> Kind:
    return Kind("sid_list", prefix=prefix)


@dataclass(frozen=True)
class Field:
    """One field. The descriptions (`*_doc`) are the texts each surface shows, None for none;
    where a surface has no text of its own, the layer writes one from the kind (e.g. a date's
    "ISO 8601, UTC", an enum's values) or from the flags ("Required.", the write-only note)."""

    name: str  # snake_case: the column, the REST key, the GraphQL name (camelCased)
    kind: Kind
    nullable: bool = False
    max_length: int | None = None  # inputs: longer is refused (21860); OpenAPI shows it
    chars: str | None = None  # inputs: the character policy (PLAIN, NAME) of a string
    too_long_code: int = 21860  # or the field's own code (20002 for friendly_name, 21819 ...)
    # -- outputs (never for a write-only field) --
    rest: bool = True  # a key of the REST JSON (and of the OpenAPI object schema)
    graphql: bool = True  # a field of the GraphQL object type
    computed: bool = False  # not a column: the layer computes it (url, errors); no plain value
    listed: bool = True  # REST: also a key of the list's entries (False: the instance's only)
    openapi_doc: str | None = None  # OpenAPI object property
    graphql_doc: str | None = None  # GraphQL object type field
    # -- inputs --
    create: bool = False  # a create parameter
    update: bool = False  # an update parameter too: a value of `PortOrderFields`
    required: bool = False  # required on create (validation reports the contract code)
    write_only: bool = False  # input only: stored encrypted, in no output, ever
    also_integer: bool = False  # OpenAPI: a JSON integer is accepted too (as text)
    openapi_input_doc: str | None = None  # OpenAPI request parameter (write-only: the note)
    graphql_input_doc: str | None = None  # GraphQL input field, after "Required." (if so)
    # -- a Port Request's create (CONTRACT.md §11) --
    shared: bool = False  # a request parameter every number of the request gets
    per_number: bool = False  # a key of a `numbers` entry (it wins over a shared value)
    # -- storage --
    loa: bool = False  # the order's LOA keeps a copy, in its column of the same name

    def __post_init__(self) -> None:
        if self.update and not self.create:
            raise ValueError(f"{self.name}: an update parameter is a create parameter too")
        if (self.shared or self.per_number) and not self.create:
            raise ValueError(f"{self.name}: a Port Request parameter is a create parameter too")
        if self.required and not self.update:
            raise ValueError(f"{self.name}: a required parameter is a value (update)")
        if self.write_only and not (self.update and self.nullable):
            raise ValueError(f"{self.name}: a write-only field is an optional value")
        if self.computed and self.create:
            raise ValueError(f"{self.name}: a computed field is no parameter")
        if self.update and (self.max_length is None or self.chars is None):
            raise ValueError(f"{self.name}: an input declares its max_length and chars")

    @property
    def in_rest(self) -> bool:
        """A key of the REST JSON and of the OpenAPI object."""
        return self.rest and not self.write_only

    @property
    def in_graphql(self) -> bool:
        """A plain (attribute) field of the GraphQL object type."""
        return self.graphql and not self.write_only and not self.computed


@dataclass(frozen=True)
class Filter:
    """A list filter (CONTRACT.md §8): equality on a field, or one end of a range of it."""

    field: Field
    openapi_doc: str  # the REST query parameter's
    bound: str = ""  # "min" / "max": the lower / upper end of a range of the field
    graphql_doc: str | None = None

    @property
    def name(self) -> str:
        """The attribute of the store's filter and the GraphQL filter input's field."""
        return f"{self.field.name}_{self.bound}" if self.bound else self.field.name

    @property
    def kind(self) -> Kind:
        return self.field.kind

    @property
    def max_length(self) -> int:
        """The longest text the filter takes: its field's input limit, else FILTER_MAX."""
        return self.field.max_length or FILTER_MAX

    def refusal(self, value: str, shown: str) -> PortingError | None:
        """Why a text value of this filter is refused (21860 too long, 21861 a control
        character; `shown` is the filter's name on the transport), or None. An enum or date
        filter is parsed by its own rule instead."""
        return plain_text_refusal(value, self.max_length, shown)

    @property
    def rest_name(self) -> str:
        """The REST query parameter (case-sensitive), e.g. `ActivationDateMin`."""
        return pascal(self.name)


def pascal(name: str) -> str:
    """`postal_code` -> `PostalCode` (Twilio's parameter names)."""
    return "".join(part.capitalize() for part in name.split("_"))


def rest_fields(declared: tuple[Field, ...]) -> tuple[Field, ...]:
    """The keys of the REST JSON (and the OpenAPI object), in order; never a write-only one."""
    return tuple(f for f in declared if f.in_rest)


def graphql_fields(declared: tuple[Field, ...]) -> tuple[Field, ...]:
    """The plain fields of the GraphQL object type, in order; never a write-only one."""
    return tuple(f for f in declared if f.in_graphql)


def inputs(declared: tuple[Field, ...], *, create: bool) -> tuple[Field, ...]:
    """The create (`create=True`) or update parameters, in order."""
    return tuple(f for f in declared if (f.create if create else f.update))


def _named(declared: tuple[Field, ...]) -> Callable[[str], Field]:
    by_name = {f.name: f for f in declared}
    return by_name.__getitem__


# ---------------------------------------------------------------------------------------------
# A Port Order


def _value(name: str, kind: Kind, **more: Any) -> Field:
    """A value of the order (`PortOrderFields`): a create and an update parameter."""
    return Field(name, kind, create=True, update=True, **more)


def _required(name: str, kind: Kind, **more: Any) -> Field:
    """A value the create must give (the update may change it, never clear it)."""
    return _value(name, kind, required=True, **more)


def _write_only(
    name: str, graphql_input_doc: str, max_length: int, too_long_code: int = 21860
) -> Field:
    """A secret value: an optional parameter, stored encrypted, in no output; in a Port Request
    each number gives its own."""
    return _value(
        name,
        TEXT,
        nullable=True,
        write_only=True,
        graphql_input_doc=graphql_input_doc,
        per_number=True,
        max_length=max_length,
        chars=PLAIN,
        too_long_code=too_long_code,
    )


PORT_ORDER: tuple[Field, ...] = (
    Field("sid", sid(sids.PORT_ORDER), openapi_doc="The order's SID"),
    Field(
        "account_sid",
        sid(sids.ACCOUNT),
        openapi_doc="The owning account or subaccount",
        create=True,
        openapi_input_doc="A subaccount to own the order (default: the caller)",
        graphql_input_doc="The owning account: default the caller; a subaccount of it; "
        "required for operators.",
        shared=True,
    ),
    _required(
        "number",
        E164,
        openapi_doc="The number being ported, E.164",
        graphql_doc="E.164, e.g. +14155550123.",
        openapi_input_doc="E.164, e.g. +14155550123",
        graphql_input_doc="The number to port, E.164 (e.g. +14155550123).",
        per_number=True,
        max_length=32,
        chars=PLAIN,
        too_long_code=21812,
    ),
    _value(
        "friendly_name",
        TEXT,
        max_length=MAX_FRIENDLY_NAME,
        chars=NAME,
        too_long_code=20002,
        openapi_input_doc=f"At most {MAX_FRIENDLY_NAME} characters",
        graphql_input_doc=f"At most {MAX_FRIENDLY_NAME} characters; default: the number, "
        "formatted.",
        per_number=True,
    ),
    Field("status", enum_of(PortOrderStatus)),
    _value(
        "port_type",
        enum_of(PortType),
        graphql_input_doc="Default: detected from the number where the plan tells.",
        loa=True,
        per_number=True,
        max_length=16,
        chars=PLAIN,
    ),
    Field("date_created", DATETIME),
    Field("date_updated", DATETIME),
    Field("loa_sid", sid(sids.LOA), openapi_doc="The LOA that covers the order"),
    Field(
        "port_request_sid",
        sid(sids.PORT_REQUEST),
        nullable=True,
        openapi_doc="The Port Request the order belongs to (null when created alone)",
        graphql_doc="The Port Request the order belongs to; null when created alone.",
    ),
    _required(
        "iso_country",
        COUNTRY,
        graphql_doc="Service address country (ISO 3166-1 alpha-2).",
        openapi_input_doc="ISO 3166-1 alpha-2 (IsoCountry)",
        graphql_input_doc="Service address country, ISO 3166-1 alpha-2.",
        loa=True,
        shared=True,
        max_length=8,
        chars=PLAIN,
        too_long_code=21813,
    ),
    _required(
        "region",
        TEXT,
        openapi_input_doc="For US, a two-letter state code",
        graphql_input_doc="Service address region (US: the state code).",
        loa=True,
        shared=True,
        max_length=64,
        chars=NAME,
    ),
    _required("city", TEXT, loa=True, shared=True, max_length=100, chars=NAME),
    _required(
        "postal_code",
        TEXT,
        also_integer=True,
        openapi_input_doc="A string, or a number as in the source document's example",
        loa=True,
        shared=True,
        max_length=16,
        chars=NAME,
    ),
    _required("street", TEXT, loa=True, shared=True, max_length=200, chars=NAME),
    _value(
        "company_name",
        TEXT,
        nullable=True,
        graphql_input_doc="Shown as Business Name on the LOA.",
        loa=True,
        shared=True,
        max_length=128,
        chars=NAME,
    ),
    _required(
        "first_name",
        TEXT,
        graphql_input_doc="The authorised signer.",
        loa=True,
        shared=True,
        max_length=64,
        chars=NAME,
        too_long_code=21828,
    ),
    _required(
        "last_name", TEXT, loa=True, shared=True, max_length=64, chars=NAME, too_long_code=21828
    ),
    _required(
        "email",
        TEXT,
        graphql_input_doc="The signer's address.",
        loa=True,
        shared=True,
        max_length=MAX_EMAIL,
        chars=NAME,
        too_long_code=21818,
    ),
    _value(
        "status_updates_email",
        TEXT,
        nullable=True,
        graphql_input_doc="Status mail goes here instead of email.",
        shared=True,
        max_length=MAX_EMAIL,
        chars=NAME,
        too_long_code=21818,
    ),
    _write_only("ssn_last_four", "Required for MOBILE orders.", 4, 21817),
    _write_only("account_number", "Losing-carrier account number. Required for MOBILE orders.", 64),
    _write_only("pin_number", "Losing-carrier PIN. Required for MOBILE orders.", 20, 21816),
    _value(
        "billing_phone_number",
        E164,
        nullable=True,
        graphql_input_doc="E.164.",
        shared=True,
        per_number=True,
        max_length=32,
        chars=PLAIN,
        too_long_code=21815,
    ),
    _value(
        "activation_date",
        DATETIME,
        nullable=True,
        graphql_doc="The requested FOC date (never before earliestActivationDate).",
        openapi_input_doc="ISO 8601 date-time with a zone",
        graphql_input_doc="Requested FOC: an ISO 8601 date-time with a zone, "
        "e.g. 2026-12-01T15:00:00Z.",
        shared=True,
        max_length=64,
        chars=PLAIN,
        too_long_code=21814,
    ),
    Field(
        "activation_date_reason",
        TEXT,
        nullable=True,
        openapi_doc="Why activation_date is not the date asked for (moved off a weekend or "
        "holiday, or up to the earliest date); null when it is",
        graphql_doc="Why activationDate is not the date asked for (moved off a weekend or "
        "holiday, or up to the earliest date); null when it is.",
    ),
    Field("earliest_activation_date", DATETIME, nullable=True),
    Field(
        "submitted_date", DATETIME, nullable=True, graphql_doc="When the order went to the carrier."
    ),
    Field("current_carrier", TEXT, nullable=True),
    Field("incoming_phone_number_sid", sid(sids.INCOMING_PHONE_NUMBER), nullable=True),
    _value(
        "status_callback",
        TEXT,
        nullable=True,
        openapi_input_doc="http(s) URL",
        graphql_input_doc="An http(s) URL; status changes are POSTed to it.",
        shared=True,
        max_length=2048,
        chars=PLAIN,
        too_long_code=21819,
    ),
    _value(
        "cc_emails",
        TEXT_LIST,
        openapi_input_doc="JSON array, or repeated form fields (CcEmails=a&CcEmails=b)",
        graphql_input_doc="Copied on SUBMITTED, FAILED and COMPLETED.",
        shared=True,
        max_length=MAX_EMAIL,  # each address
        chars=NAME,
        too_long_code=21820,
    ),
    Field("reason_code", INT, nullable=True, graphql_doc="Why the last status change happened."),
    Field("reason", TEXT, nullable=True),
    Field("errors", ERRORS, computed=True, graphql=False),  # GraphQL: a resolver, elsewhere
    Field(
        "exception",
        EXCEPTION,
        nullable=True,
        graphql=False,  # GraphQL: a PortOrderException object, elsewhere
        openapi_doc="While REJECTED: the rejection's type and the fields to fix; else null",
    ),
    Field("provider_sid", TEXT, nullable=True),
    Field("zendesk_id", TEXT, nullable=True),
    Field("url", URL, computed=True, graphql=False),
)

# In the order of CONTRACT.md §8 (the REST page URLs and the GraphQL filter input keep it).
_o = _named(PORT_ORDER)
PORT_ORDER_FILTERS: tuple[Filter, ...] = (
    Filter(_o("sid"), "Only the order with this SID"),
    Filter(_o("account_sid"), "Orders of this account (the caller's or one of its subaccounts)"),
    Filter(_o("company_name"), "Orders with this company name"),
    Filter(_o("email"), "Orders with this signer email"),
    Filter(_o("loa_sid"), "Orders covered by this LOA"),
    Filter(_o("provider_sid"), "Orders of this provider"),
    Filter(_o("zendesk_id"), "Orders with this Zendesk ticket"),
    Filter(
        _o("activation_date"),
        "Activation date on or after this ISO 8601 date or date-time",
        bound="min",
        graphql_doc="Activation date on or after.",
    ),
    Filter(
        _o("activation_date"),
        "Activation date on or before this ISO 8601 date or date-time",
        bound="max",
        graphql_doc="Activation date on or before.",
    ),
    Filter(_o("incoming_phone_number_sid"), "Orders with this incoming phone number SID"),
    Filter(_o("number"), "Orders for this number (E.164)"),
    Filter(_o("status"), "Orders in this status (any letter case; 21822 if unknown)"),
    Filter(_o("friendly_name"), "Orders with this friendly name"),
    Filter(_o("port_request_sid"), "Orders of this Port Request"),
)


# ---------------------------------------------------------------------------------------------
# An LOA


LOA: tuple[Field, ...] = (
    Field("sid", sid(sids.LOA), openapi_doc="The LOA's SID"),
    Field(
        "account_sid",
        sid(sids.ACCOUNT),
        openapi_doc="The owning account or subaccount",
        graphql=False,
    ),
    Field("status", enum_of(LoaStatus)),
    Field("first_name", TEXT),
    Field("last_name", TEXT),
    Field("email", TEXT),
    Field("date_created", DATETIME, graphql=False),
    Field("date_updated", DATETIME, graphql=False),
    Field("url", URL, computed=True, graphql=False),  # GraphQL: a resolver, elsewhere
)

_l = _named(LOA)
LOA_FILTERS: tuple[Filter, ...] = (
    Filter(_l("sid"), "Only the LOA with this SID"),
    Filter(_l("status"), "LOAs in this status (any letter case; 21904 if unknown)"),
    Filter(_l("first_name"), "LOAs of signers with this first name"),
    Filter(_l("last_name"), "LOAs of signers with this last name"),
    Filter(_l("email"), "LOAs of signers with this email"),
)


# ---------------------------------------------------------------------------------------------
# A Port Request (CONTRACT.md §11): the orders of one request, and what became of each number


PORT_REQUEST: tuple[Field, ...] = (
    Field("sid", sid(sids.PORT_REQUEST), openapi_doc="The Port Request's SID"),
    Field("account_sid", sid(sids.ACCOUNT), openapi_doc="The owning account or subaccount"),
    Field(
        "status",
        enum_of(PortRequestStatus),
        openapi_doc="Derived from the statuses of its orders",
        graphql_doc="Derived from the statuses of its orders.",
    ),
    Field(
        "number_count",
        INT,
        openapi_doc="How many numbers the request named (ordered or not)",
        graphql_doc="How many numbers the request named (ordered or not).",
    ),
    Field(
        "counts",
        COUNTS,
        openapi_doc="Its orders per status (every status, zeros included)",
        graphql=False,  # GraphQL: a PortOrderCounts object, elsewhere
    ),
    Field(
        "numbers",
        NUMBERS,
        computed=True,
        graphql=False,  # GraphQL: a resolver, elsewhere
        listed=False,
        openapi_doc="One entry per number of the request, in the order given",
    ),
    Field(
        "loa_sids",
        sid_list(sids.LOA),
        computed=True,
        graphql=False,  # GraphQL: `loas`
        openapi_doc="The LOAs covering its orders",
    ),
    Field("date_created", DATETIME),
    Field("date_updated", DATETIME),
    Field("url", URL, computed=True, graphql=False),
)

_r = _named(PORT_REQUEST)
PORT_REQUEST_FILTERS: tuple[Filter, ...] = (
    Filter(_r("status"), "Requests in this status (any letter case; 20001 if unknown)"),
)

# The create's parameters, from the order's declaration: the values every number of the
# request shares, and the keys of one `numbers` entry (winning over a shared value).
SHARED: tuple[Field, ...] = tuple(f for f in PORT_ORDER if f.shared)
PER_NUMBER: tuple[Field, ...] = tuple(f for f in PORT_ORDER if f.per_number)


# ---------------------------------------------------------------------------------------------
# A comment on a port order's or a Port Request's thread, and a document of a port order


COMMENT: tuple[Field, ...] = (
    Field("sid", sid(sids.COMMENT), openapi_doc="The comment's SID"),
    Field("account_sid", sid(sids.ACCOUNT), openapi_doc="The account of its subject"),
    Field(
        "subject_sid",
        TEXT,
        openapi_doc="The port order (PO...) or Port Request (PR...) it is about",
        graphql_doc="The port order (PO...) or Port Request (PR...) it is about.",
    ),
    Field(
        "author_type",
        enum_of(AuthorType),
        openapi_doc="customer (an account), operator (the porting team) or system (Portico)",
        graphql_doc="CUSTOMER (an account), OPERATOR (the porting team) or SYSTEM (Portico).",
    ),
    Field(
        "author_sid",
        TEXT,
        nullable=True,
        openapi_doc="The author's account or operator SID (null for system)",
        graphql_doc="The author's account or operator SID (null for system).",
    ),
    Field("body", TEXT, openapi_doc="Plain text, as written (1 to 10,000 characters)"),
    Field("date_created", DATETIME),
)

DOCUMENT: tuple[Field, ...] = (
    Field("sid", sid(sids.DOCUMENT), openapi_doc="The document's SID"),
    Field("account_sid", sid(sids.ACCOUNT), openapi_doc="The order's account", graphql=False),
    Field("port_order_sid", sid(sids.PORT_ORDER), openapi_doc="The order it belongs to"),
    Field("document_type", enum_of(DocumentType)),
    Field(
        "file_name",
        TEXT,
        openapi_doc="The uploaded file's name (its last path segment)",
        graphql_doc="The uploaded file's name (its last path segment).",
    ),
    Field(
        "content_type",
        TEXT,
        openapi_doc="application/pdf, image/png or image/jpeg: from the file's bytes",
        graphql_doc="application/pdf, image/png or image/jpeg: from the file's bytes.",
    ),
    Field("size", INT, openapi_doc="Bytes", graphql_doc="Bytes."),
    Field("sha256", TEXT, openapi_doc="Hex SHA-256 of the bytes", graphql_doc="Hex SHA-256."),
    Field("date_created", DATETIME),
    Field("url", URL, computed=True, openapi_doc="The content's URL (the bytes, as a download)"),
)


# ---------------------------------------------------------------------------------------------
# The values of a port order (validation's result), and their storage


def value_type(kind: Kind) -> Any:
    """The Python type of a value of the kind: str, datetime, int, list[str] or the enum."""
    if kind.enum is not None:
        return kind.enum
    return {"datetime": datetime, "int": int, "text_list": list[str]}.get(kind.name, str)


def python_type(f: Field) -> Any:
    """The Python type of the field's value: its kind's, `| None` when nullable."""
    return value_type(f.kind) | None if f.nullable else value_type(f.kind)


VALUES: tuple[Field, ...] = tuple(f for f in PORT_ORDER if f.update)
REQUIRED: tuple[str, ...] = tuple(f.name for f in VALUES if f.required)  # on create
WRITE_ONLY: tuple[str, ...] = tuple(f.name for f in VALUES if f.write_only)
STORED: tuple[str, ...] = tuple(f.name for f in VALUES if not f.write_only)
ON_LOA: tuple[str, ...] = tuple(f.name for f in VALUES if f.loa)


@dataclass(kw_only=True)
class PortOrderFields:
    """The normalized, validated values of one port order: the `update` fields of PORT_ORDER.

    Spelled out so that mypy knows them; `check_values_class` (run below, at import) refuses
    any difference from the declaration (names, order, types, defaults).
    """

    number: str
    friendly_name: str
    port_type: PortType
    iso_country: str
    region: str
    city: str
    postal_code: str
    street: str
    company_name: str | None = None
    first_name: str
    last_name: str
    email: str
    status_updates_email: str | None = None
    ssn_last_four: str | None = None
    account_number: str | None = None
    pin_number: str | None = None
    billing_phone_number: str | None = None
    activation_date: datetime | None = None
    status_callback: str | None = None
    cc_emails: list[str] = field(default_factory=list)


def check_values_class(cls: type, declared: tuple[Field, ...] = VALUES) -> None:
    """Raise TypeError unless `cls` has exactly the declared values: same names in the same
    order, each of `python_type`, with a default (None, or an empty list) iff it is nullable
    or a list."""
    hints = typing.get_type_hints(cls)
    have = [
        (f.name, hints[f.name], f.default is not MISSING or f.default_factory is not MISSING)
        for f in fields(cls)
    ]
    want = [(f.name, python_type(f), f.nullable or f.kind == TEXT_LIST) for f in declared]
    if have != want:
        raise TypeError(
            f"{cls.__name__} differs from the declaration in app/porting/fields.py:\n"
            f"  has  {have}\n  want {want}"
        )


check_values_class(PortOrderFields)


def stored_values(f: PortOrderFields) -> dict[str, object]:
    """The plain column values of a port order row holding `f`, by column name (STORED: every
    value but the write-only ones): the port type as its text, cc_emails as a new list.
    Set each on the row (`setattr`); the write-only values go through `write_only_values`."""
    return {name: _to_column(getattr(f, name)) for name in STORED}


def write_only_values(f: PortOrderFields) -> dict[str, str]:
    """The write-only values of `f` that are set (None left out), by name: what the row keeps
    only encrypted (`secrets_enc`). Empty when there is none."""
    return {name: value for name in WRITE_ONLY if (value := getattr(f, name)) is not None}


def loa_values(f: PortOrderFields) -> dict[str, object]:
    """The values the order's LOA keeps a copy of (ON_LOA: signer, company, service address,
    port type), by the LOA's column names, converted like `stored_values`."""
    return {name: _to_column(getattr(f, name)) for name in ON_LOA}


def values_of(row: object) -> dict[str, object]:
    """The STORED attributes of a port order row (any object with them), for `fields_from`."""
    return {name: getattr(row, name) for name in STORED}


def fields_from(values: Mapping[str, object], secrets: Mapping[str, str | None]) -> PortOrderFields:
    """The inverse of `stored_values` and `write_only_values`: the fields of a stored order
    from its plain column values (at least the STORED names; e.g. `values_of(row)`) and its
    decrypted write-only values (a name missing there is None)."""
    kwargs: dict[str, Any] = {}
    for f in VALUES:
        if f.write_only:
            kwargs[f.name] = secrets.get(f.name)
        else:
            kwargs[f.name] = _from_column(f, values[f.name])
    return PortOrderFields(**kwargs)


def _to_column(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return list(value)
    return value


def _from_column(f: Field, value: object) -> object:
    if value is None:
        return None
    if f.kind.enum is not None:
        return f.kind.enum(str(value))
    if isinstance(value, list | tuple):
        return list(value)
    return value
