"""Settings: PORTICO_* environment variables; the defaults are the embedded setup (var/)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.porting.statuses import PortType


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTICO_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/portico.db"
    # Any string of 32+ characters; key material is derived from it (HKDF). When unset, the
    # embedded default generates one into var/secret_key on first use and keeps it.
    secret_key: str | None = Field(default=None, repr=False)
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    log_level: str = "INFO"
    # "text" (the default, one readable line per record) or "json" (one JSON object per line:
    # time, level, logger, message, request id, account SID, operation, duration).
    log_format: Literal["text", "json"] = "text"
    # Unset: /metrics answers loopback peers only. Set: every scrape needs
    # `Authorization: Bearer <token>`, from any address (loopback included).
    metrics_token: str | None = Field(default=None, repr=False)

    # CONTRACT.md §6: business days before the earliest activation date, per port type.
    business_days_landline: int = 3
    business_days_mobile: int = 1
    business_days_toll_free: int = 5
    business_days_unknown: int = 3

    # The carrier (README, "Sandbox carrier"): the sandbox's pace, and the scheduler that runs
    # due carrier work. Each sandbox step comes this many seconds after the previous one.
    sandbox_step_seconds: float = Field(default=60.0, gt=0)
    scheduler_enabled: bool = True
    # How often an idle scheduler looks for due jobs; default min(step / 4, 1 second). New jobs
    # written by the same process wake it at once.
    scheduler_poll_seconds: float | None = Field(default=None, gt=0)
    # How long a claimed job is reserved; after that another replica may take it over.
    scheduler_lease_seconds: float = Field(default=60.0, gt=0)
    scheduler_batch_size: int = Field(default=20, ge=1)
    # Seconds before each retry of a carrier step that failed unexpectedly, comma-separated;
    # after the last one the step is given up (failed). 20409 conflicts are retried at once.
    scheduler_retry_schedule: str = "1,2,4,8,16,32,64"

    # Port Requests (CONTRACT.md §11): at most this many numbers in one request or one
    # portability check.
    port_request_max_numbers: int = Field(default=1000, ge=1)

    # Access (README, "Frontend access"). A verified credential (auth token, API key secret,
    # access token) is remembered this many seconds; 0 checks every request against the
    # database. A revoked API key stops working on every replica at once (the bus), whatever
    # this says.
    auth_cache_seconds: float = Field(default=5.0, ge=0)
    # Browser origins allowed to call /graphql and /porting (CORS), e.g.
    # '["https://app.example.com"]'. A state-changing request whose Origin is another one
    # (or `Sec-Fetch-Site: cross-site`) is refused with 20403 (CSRF); requests without an
    # Origin (curl, servers) are not affected.
    cors_allowed_origins: list[str] = Field(default_factory=list)
    # A JSON manifest {sha256: document}: when set, GraphQL runs only these documents.
    graphql_trusted_documents: Path | None = None

    # GraphQL protection.
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 2000
    graphql_introspection: bool = True
    # Bytes a POST /graphql body (and one websocket message) may hold; past it: 413 (close 1009
    # on a websocket), the rest unread.
    graphql_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # Estimated nodes (GitHub's way: connections multiply by first/last) one document may ask.
    graphql_max_nodes: int = Field(default=50_000, ge=1)
    # Points per account per clock hour, GraphQL and REST together (a GraphQL operation costs
    # ceil(nodes / 100), at least 1; a REST request 1). 0 turns the budget off.
    graphql_points_per_hour: int = Field(default=5_000, ge=0)

    # GraphQL over websockets (subscriptions).
    ws_keepalive_interval: float = 20.0  # seconds between server pings on an idle socket
    ws_connection_init_timeout: float = 10.0  # seconds a new socket may wait before connection_init
    ws_max_subscriptions: int = 25  # operations at once on one socket
    # Messages that may wait for one socket once its buffers are full (a client that stopped
    # reading); one more closes it with 4429, so it never slows the others nor grows unbounded.
    ws_max_queued_messages: int = Field(default=100, ge=1)
    # Compression of websocket messages (permessage-deflate) when the client offers it: off by
    # default, the messages are a few hundred bytes and deflating each one for each socket
    # cost more than the fan-out's GraphQL work.
    ws_per_message_deflate: bool = False
    # Browser pages on other origins allowed to open a socket ("*" for any); same-origin pages
    # and non-browser clients always may.
    ws_allowed_origins: list[str] = Field(default_factory=list)
    shutdown_timeout: float = 5.0  # seconds open requests get after SIGTERM

    # --- deliveries (status callbacks and email; app/runners/worker.py) ---------------------------
    # Seconds before each retry of a failed callback or email, comma-separated; after the
    # last one the delivery is given up. Default: exponential backoff over about three days.
    callback_retry_schedule: str = (
        "5,30,120,600,1800,3600,7200,14400,28800,43200,43200,43200,43200,43200"
    )
    # CIDR networks a status callback may reach although they are not public, e.g.
    # "127.0.0.0/8,::1/128" for local development (scripts/serve sets that).
    callback_allowed_networks: str = ""
    callback_timeout_seconds: float = 15.0
    # smtp://user:pass@host:port (STARTTLS when offered), smtps:// for TLS from the start.
    # Unset: every message is written as an .eml file under var/mail/.
    smtp_url: str | None = Field(default=None, repr=False)
    mail_from: str = "Portico Porting <porting@portico.localhost>"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)  # per SMTP exchange
    # Run the delivery worker inside `portico serve` (turn off when `portico worker` runs).
    delivery_worker: bool = True
    # 0: the worker runs inside the server process. N: `portico serve` runs N worker child
    # processes instead (app/runners/children.py), so deliveries get cores of their own.
    delivery_worker_processes: int = Field(default=0, ge=0)
    # Deliveries one worker sends at once, overall and to one receiver host (a callback URL's
    # host; for mail, the SMTP server, whose reused connections are bounded by it too).
    delivery_concurrency: int = Field(default=64, ge=1)
    delivery_concurrency_per_host: int = Field(default=16, ge=1)
    # A claimed delivery is reclaimable after this many seconds (a killed worker's claim).
    delivery_lease_seconds: float = 60.0
    # How often a worker looks for due work when nothing wakes it up.
    delivery_poll_seconds: float = 1.0
    # Lifetime of the LOA signing link sent by email.
    loa_link_max_age_seconds: int = 7 * 24 * 3600
    # The porting team's address: customers' comments are mailed here (none: not mailed).
    operator_email: str | None = None
    # The largest document a customer may upload (bytes); one more is refused while streaming.
    document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)

    # Benchmarks only (scripts/bench): count the SQL statements each HTTP request runs and
    # answer them in an `X-Portico-Sql-Statements` response header (app/store/counting.py).
    debug_count_sql: bool = False
    # Benchmarks only (scripts/bench, case write): milliseconds every write transaction waits
    # inside itself, as a network round trip to a distant database would make it.
    debug_write_delay_ms: float = Field(default=0.0, ge=0)

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("PORTICO_SECRET_KEY must be at least 32 characters")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("callback_retry_schedule", "scheduler_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        _parse_schedule(value)
        return value

    @field_validator("callback_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        _parse_networks(value)
        return value

    @property
    def retry_schedule(self) -> list[float]:
        return _parse_schedule(self.callback_retry_schedule)

    @property
    def scheduler_retries(self) -> list[float]:
        return _parse_schedule(self.scheduler_retry_schedule)

    @property
    def allowed_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return _parse_networks(self.callback_allowed_networks)

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def business_days(self) -> dict[PortType, int]:
        return {
            PortType.LANDLINE: self.business_days_landline,
            PortType.MOBILE: self.business_days_mobile,
            PortType.TOLL_FREE: self.business_days_toll_free,
            PortType.UNKNOWN: self.business_days_unknown,
        }

    @property
    def scheduler_poll_interval(self) -> float:
        if self.scheduler_poll_seconds is not None:
            return self.scheduler_poll_seconds
        return min(self.sandbox_step_seconds / 4, 1.0)

    @cached_property
    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def url_for(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


def _parse_schedule(value: str) -> list[float]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    try:
        delays = [float(p) for p in parts]
    except ValueError:
        raise ValueError(
            "PORTICO_CALLBACK_RETRY_SCHEDULE must be seconds separated by commas"
        ) from None
    if any(d < 0 or d != d for d in delays):
        raise ValueError("PORTICO_CALLBACK_RETRY_SCHEDULE: delays must be >= 0")
    return delays


def _parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(p.strip()) for p in value.split(",") if p.strip()]
    except ValueError as exc:
        raise ValueError(f"PORTICO_CALLBACK_ALLOWED_NETWORKS: {exc}") from None
