"""Log lines: plain text (the default) or one JSON object per line (PORTICO_LOG_FORMAT=json).

Every line carries the context of the request it was written in, from context variables that
the ASGI middleware (asgi.py), authentication and the GraphQL extension set: the request id,
the caller's SID (an account's AC..., an operator's OP...) and the GraphQL operation name.
Access lines add method, route (the template, never the raw path), status and duration_ms.

What is never in a line: secrets or personal data. Callers log SIDs, codes and type names,
never values; as a safety net both formatters also mask what looks like an email address, an
E.164 number or HTTP credentials (`Basic ...`, `Bearer ...`) in the message and traceback.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

request_id: ContextVar[str | None] = ContextVar("portico_request_id", default=None)
caller_sid: ContextVar[str | None] = ContextVar("portico_caller_sid", default=None)
operation: ContextVar[str | None] = ContextVar("portico_operation", default=None)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Extra attributes a line may carry (`log.info(..., extra={...})`), in this order.
EXTRA_FIELDS = ("method", "route", "status", "duration_ms")

_MASKS = (
    (re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{16,}"), r"\1 [redacted]"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w+])\+\d{7,15}\b"), "[number]"),
)


def mint_request_id() -> str:
    return secrets.token_hex(16)


def accept_request_id(header: str | None) -> str:
    """An incoming `X-Request-Id` when it is safe to repeat, else a new one."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return mint_request_id()


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The line's context: request id, account SID and operation name (when known), then the
    extra fields the call gave."""
    fields: dict[str, Any] = {}
    for key, var in (("request_id", request_id), ("account_sid", caller_sid)):
        value = getattr(record, key, None) or var.get()
        if value:
            fields[key] = value
    op = getattr(record, "operation", None) or operation.get()
    if op:
        fields["operation"] = op
    for key in EXTRA_FIELDS:
        value = getattr(record, key, None)
        if value is not None:
            fields[key] = value
    return fields


class TextFormatter(logging.Formatter):
    """`LEVEL logger: message`, then the context as `key=value` pairs."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = context_fields(record)
        for key in EXTRA_FIELDS:  # already in an access line's message
            fields.pop(key, None)
        if fields:
            head, sep, tail = line.partition("\n")
            line = head + " " + " ".join(f"{k}={v}" for k, v in fields.items()) + sep + tail
        return mask(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, and the
    exception (type and traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
            **context_fields(record),
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
            entry["exception_type"] = getattr(record.exc_info[0], "__name__", "?")
        elif record.stack_info:
            entry["stack"] = mask(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class QuietConnections(logging.Filter):
    """Drops uvicorn's per-websocket lines (`<client> - "WebSocket <path?query>" [accepted]`,
    "connection open", "connection closed"): they hold the client's address and the raw path,
    and the access line of asgi.py says the same with the route template."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg if isinstance(record.msg, str) else ""
        if record.levelno < logging.INFO and "websockets" in record.pathname:
            return False  # the websockets library's frames and headers (debug): see WIRE_LOGGERS
        return not (
            msg.startswith('%s - "WebSocket') or msg in ("connection open", "connection closed")
        )


# Libraries whose debug lines carry what clients and customers sent: SQL parameters and result
# rows (SQLAlchemy's engine; aiosqlite logs every call with its arguments), request and response
# headers and bodies, websocket frames. They log at WARNING (or INFO) whatever the level is:
# PORTICO_LOG_LEVEL=DEBUG shows Portico's own debug lines, never names, emails, addresses or
# secrets (ARCHITECTURE.md §6). The engines also hide SQL parameters (hide_parameters=True).
WIRE_LOGGERS: dict[str, int] = {
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "websockets": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "hpack": logging.WARNING,
    "multipart": logging.WARNING,
    "python_multipart": logging.WARNING,
    "aiosmtplib": logging.WARNING,
    "mail.log": logging.WARNING,
}


def quiet_wire_loggers() -> None:
    for name, floor in WIRE_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level < floor:
            logger.setLevel(floor)


def configure(level: str = "INFO", fmt: LogFormat = "text") -> None:
    """One handler on the root logger (stderr) with the chosen formatter; every logger,
    uvicorn's included, writes through it. Called again, it replaces its own handler. Like
    `logging.basicConfig`, it leaves a root logger that others configured alone (a test
    runner's capture, an embedding application)."""
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietConnections) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(QuietConnections())
    quiet_wire_loggers()
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "portico", False)]
    if len(ours) != len(root.handlers):
        return
    for old in ours:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.portico = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
