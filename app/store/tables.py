"""Every table of Portico (SQLModel, table=True). Nothing else defines tables.

Conventions:
- `id` is an integer sequence: the immutable keyset key for "newest first" lists
  (ARCHITECTURE.md §4). The public handle is `sid`.
- Times are stored as UTC (`UTCDateTime`) and come back timezone-aware.
- Write-only values live only in `*_enc` columns (Fernet ciphertext, app/store/secrets.py).
- `version` is the optimistic-concurrency counter of rows that move through states.
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _dt(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    parent_sid: str | None = Field(
        default=None, max_length=34, foreign_key="accounts.sid", index=True
    )
    friendly_name: str = Field(max_length=64)
    auth_token_enc: str
    # Standard Webhooks signing secret for status callbacks (encrypted).
    webhook_secret_enc: str | None = None
    # The secret before the last rotation: callbacks carry both signatures for a day.
    webhook_secret_previous_enc: str | None = None
    webhook_secret_rotated_at: datetime | None = _dt()
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Operator(SQLModel, table=True):
    """A porting operator: sees every account, moves orders through the carrier's steps."""

    __tablename__ = "operators"
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    friendly_name: str = Field(max_length=64)
    token_enc: str
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Loa(SQLModel, table=True):
    __tablename__ = "loas"
    __table_args__ = (sa.Index("ix_loas_account_sid_id", "account_sid", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    account_sid: str = Field(max_length=34, foreign_key="accounts.sid", index=True)
    status: str = Field(max_length=16, index=True)
    first_name: str
    last_name: str
    email: str = Field(index=True)
    company_name: str | None = None
    iso_country: str = Field(max_length=2)
    region: str
    city: str
    postal_code: str
    street: str
    port_type: str = Field(max_length=16)
    # Hash of (account, signer, email, address, port type) while the LOA is open, else NULL:
    # the unique index makes "one open LOA per group" hold under concurrent creates.
    open_group_key: str | None = Field(default=None, max_length=64, unique=True)
    signer_name: str | None = None
    signed_date: datetime | None = _dt()
    signer_ip: str | None = None
    signer_user_agent: str | None = None
    signed_text_sha256: str | None = Field(default=None, max_length=64)
    version: int = 1
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    date_updated: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PortRequest(SQLModel, table=True):
    """Many numbers in one request (CONTRACT.md §11): the orders it made point to it
    (`port_orders.port_request_sid`); `status` and `counts` are derived from theirs, kept up to
    date in every transaction that moves one of them (app/services/_requests.py)."""

    __tablename__ = "port_requests"
    __table_args__ = (sa.Index("ix_port_requests_account_sid_id", "account_sid", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    account_sid: str = Field(max_length=34, foreign_key="accounts.sid", index=True)
    status: str = Field(max_length=24, index=True)
    number_count: int
    # Orders per status, every status: {"PENDING": 998, "CREATED": 0, ...}
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Each number as given, in order: {"number", "port_order_sid" (or null), "errors"}.
    numbers: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    all_or_nothing: bool = False
    status_callback: str | None = None
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    date_updated: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PortOrder(SQLModel, table=True):
    __tablename__ = "port_orders"
    __table_args__ = (sa.Index("ix_port_orders_account_sid_id", "account_sid", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    account_sid: str = Field(max_length=34, foreign_key="accounts.sid", index=True)
    loa_sid: str = Field(max_length=34, foreign_key="loas.sid", index=True)
    # The Port Request that made the order (NULL when created alone).
    port_request_sid: str | None = Field(default=None, max_length=34, index=True)
    number: str = Field(max_length=20, index=True)
    # The number while the order is open (non-terminal), else NULL: one open order per number.
    active_number: str | None = Field(default=None, max_length=20, unique=True)
    friendly_name: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16, index=True)
    port_type: str = Field(max_length=16)
    iso_country: str = Field(max_length=2)
    region: str
    city: str
    postal_code: str
    street: str
    company_name: str | None = Field(default=None, index=True)
    first_name: str
    last_name: str
    email: str = Field(index=True)
    status_updates_email: str | None = None
    billing_phone_number: str | None = None
    activation_date: datetime | None = _dt(index=True)
    earliest_activation_date: datetime | None = _dt()
    submitted_date: datetime | None = _dt()
    current_carrier: str | None = None
    incoming_phone_number_sid: str | None = Field(default=None, max_length=34, index=True)
    status_callback: str | None = None
    cc_emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason_code: int | None = None
    reason: str | None = None
    provider_sid: str | None = Field(default=None, index=True)
    zendesk_id: str | None = Field(default=None, index=True)
    # Why `activation_date` is not the date asked for (moved off a weekend or holiday, or up to
    # the earliest date); NULL when it is the date asked for (app/porting/windows.py).
    activation_date_reason: str | None = None
    # A rejection's structured reason {"type", "fields_to_fix"} while REJECTED, else NULL
    # (app/porting/exceptions.py).
    exception: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # How many times the order went to the carrier (SUBMITTED moves).
    submissions: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # {"ssn_last_four", "account_number", "pin_number"} as encrypted JSON; never read back out.
    secrets_enc: str | None = None
    version: int = 1
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    date_updated: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PortOrderError(SQLModel, table=True):
    __tablename__ = "port_order_errors"
    id: int | None = Field(default=None, primary_key=True)
    port_order_sid: str = Field(max_length=34, foreign_key="port_orders.sid", index=True)
    code: int
    reason: str
    date: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Event(SQLModel, table=True):
    """The event log: what happened. `id` is the public cursor; readers go through the log in
    (`xact_id`, `id`) order, which a late commit cannot fill in behind them
    (app/store/events.py)."""

    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_resource_sid_id", "resource_sid", "id"),
        sa.Index("ix_events_xact_id_id", "xact_id", "id"),
        sa.Index("ix_events_port_request_sid_id", "port_request_sid", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # The writing transaction's id on PostgreSQL (pg_current_xact_id()); 0 on SQLite, where
    # the single writer commits in id order.
    xact_id: int = Field(default=0, sa_column=Column(sa.BigInteger(), nullable=False))
    resource_type: str = Field(max_length=16)  # "port_order" | "loa" | "port_request"
    resource_sid: str = Field(max_length=34, index=True)
    # The Port Request of the order (or the request itself) the event is about, else NULL.
    port_request_sid: str | None = Field(default=None, max_length=34)
    account_sid: str = Field(max_length=34, index=True)
    type: str = Field(max_length=48)  # e.g. "port_order.status_changed"
    # Status callback payload of CONTRACT.md §9 (port orders) or {status, date_updated} (LOAs).
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    actor: str = Field(max_length=16)  # customer | service | carrier | operator
    actor_sid: str | None = Field(default=None, max_length=34)
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IncomingPhoneNumber(SQLModel, table=True):
    """A number in an account's inventory (a completed port lands here)."""

    __tablename__ = "incoming_phone_numbers"
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    account_sid: str = Field(max_length=34, foreign_key="accounts.sid", index=True)
    number: str = Field(max_length=20, unique=True)
    friendly_name: str = Field(max_length=64)
    port_order_sid: str | None = Field(default=None, max_length=34)
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdempotencyKey(SQLModel, table=True):
    """A create replayed with the same key returns the first response (24 hours)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("account_sid", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    account_sid: str = Field(max_length=34)
    key: str = Field(max_length=255)
    request_sha256: str = Field(max_length=64)
    response_status: int | None = None
    response_body: str | None = None
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class Delivery(SQLModel, table=True):
    """One message to send (a status callback or an email), derived from an event."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)  # stable id for receivers to deduplicate on
    event_id: int = Field(foreign_key="events.id", index=True)
    account_sid: str = Field(max_length=34, index=True)
    port_order_sid: str | None = Field(default=None, max_length=34, index=True)
    loa_sid: str | None = Field(default=None, max_length=34)
    channel: str = Field(max_length=16)  # "callback" | "email"
    target: str  # URL or email address
    kind: str = Field(max_length=32)  # e.g. "status_update", "loa_signature", "cc"
    state: str = Field(max_length=16, index=True)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    lease_until: datetime | None = _dt()
    # Who holds the lease: a worker's finish only reschedules a delivery it still holds.
    lease_token: str | None = Field(default=None, max_length=32)
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    date_updated: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempts"
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="deliveries.id", index=True)
    date: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status_code: int | None = None
    error: str | None = None
    latency_ms: float | None = None


class Job(SQLModel, table=True):
    """Due carrier steps for the scheduler (app/store/work.py JOBS). Each step happens once."""

    __tablename__ = "jobs"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    port_order_sid: str | None = Field(default=None, max_length=34, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(max_length=16, index=True)  # pending | done | failed | retired
    run_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    lease_until: datetime | None = _dt()
    # Who holds the lease: every write of a claimed job is fenced on it (app/store/work.py).
    lease_token: str | None = Field(default=None, max_length=32)
    attempts: int = 0
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RateLimitWindow(SQLModel, table=True):
    """Points one account used in one clock hour (`window_start`: its first second, epoch),
    shared by every replica (app/services/budgets.py); `last_ok` is the outcome of the last
    spend written (1: within the limit)."""

    __tablename__ = "rate_limit_windows"
    account_sid: str = Field(primary_key=True, max_length=34)
    window_start: int = Field(primary_key=True)
    points_limit: int
    used: int = 0
    last_ok: int = 1


class Comment(SQLModel, table=True):
    """A message on a port order's or a Port Request's thread (`subject_sid`), oldest first."""

    __tablename__ = "comments"
    __table_args__ = (sa.Index("ix_comments_subject_sid_id", "subject_sid", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    account_sid: str = Field(max_length=34, foreign_key="accounts.sid", index=True)
    subject_sid: str = Field(max_length=34)  # a PO... or PR... SID
    author_type: str = Field(max_length=16)  # customer | operator | system
    author_sid: str | None = Field(default=None, max_length=34)
    body: str = Field(sa_column=Column(sa.Text(), nullable=False))
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Document(SQLModel, table=True):
    """A file a port order needs (a bill, an invoice, a CSR, the signed LOA), stored in the
    database so every replica serves it. Lists read the metadata only (`content` deferred)."""

    __tablename__ = "documents"
    __table_args__ = (sa.Index("ix_documents_port_order_sid_id", "port_order_sid", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    account_sid: str = Field(max_length=34, foreign_key="accounts.sid", index=True)
    port_order_sid: str = Field(max_length=34, foreign_key="port_orders.sid")
    document_type: str = Field(max_length=16)
    file_name: str = Field(max_length=255)
    content_type: str = Field(max_length=64)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(sa.LargeBinary(), nullable=False))
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ApiKey(SQLModel, table=True):
    """An API key (`SK` + 32 hex): usable where its account's auth token is (HTTP Basic
    `SK...:secret`), revocable. The secret is shown once; only its keyed hash is stored."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=34, unique=True)
    account_sid: str = Field(max_length=34, foreign_key="accounts.sid", index=True)
    friendly_name: str = Field(max_length=64)
    secret_hash: str = Field(max_length=64)
    read_only: bool = False
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    date_revoked: datetime | None = _dt()


class PersistedQuery(SQLModel, table=True):
    """An automatic persisted query (Apollo APQ): the document under its SHA-256, shared by
    every replica."""

    __tablename__ = "persisted_queries"
    sha256: str = Field(max_length=64, primary_key=True)
    document: str
    date_created: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
