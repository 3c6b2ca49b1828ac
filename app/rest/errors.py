"""Twilio's error body, mapped once for the REST surface (ARCHITECTURE.md §3, point 3).

Every REST error answers `{"code", "message", "more_info", "status"}`; a validation run adds
every failure under `details` as `[{"code", "message", "field"}]`, the first of them being the
one in the top-level fields (Twilio reports one error; the rest are a bonus for clients).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.responses import JSONResponse

from app.http_auth import REALM
from app.observability.metrics import REST_ERRORS
from app.porting.errors import PortingError, PortingErrors
from app.store.conflicts import RETRY_AFTER_SECONDS

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# HTTP-level codes of Twilio's numbering that no service raises (so not in the catalog).
METHOD_NOT_ALLOWED = 20004
INTERNAL_ERROR = 20500


def body(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": MORE_INFO.format(code=code),
        "status": status,
    }


def respond(
    content: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Every REST error response, counted in `portico_rest_errors_total` by code."""
    REST_ERRORS.labels(str(content["code"]), str(status)).inc()
    return JSONResponse(content, status_code=status, headers=headers)


def _detail(err: PortingError) -> dict[str, Any]:
    return {"code": err.code, "message": err.message, "field": err.field}


def from_porting(exc: PortingError | PortingErrors) -> JSONResponse:
    if isinstance(exc, PortingErrors):
        first = exc.first
        content = body(first.code, first.message, first.http_status)
        content["details"] = [_detail(e) for e in exc.errors]
        return respond(content, first.http_status)
    return respond(body(exc.code, exc.message, exc.http_status), exc.http_status)


def unauthorized() -> JSONResponse:
    err = PortingError(20003)
    return respond(
        body(err.code, err.message, err.http_status),
        err.http_status,
        headers={"WWW-Authenticate": REALM},
    )


def rate_limited(retry_after: int) -> JSONResponse:
    """The caller's hourly budget of points is spent (app/services/budgets.py): 429 (20429)."""
    err = PortingError(
        20429, f"Too many requests: the hourly budget is spent; retry in {retry_after} seconds"
    )
    return respond(
        body(err.code, err.message, err.http_status),
        err.http_status,
        headers={"Retry-After": str(retry_after)},
    )


def not_found() -> JSONResponse:
    return from_porting(PortingError(20404))


def method_not_allowed(method: str, allowed: Iterable[str]) -> JSONResponse:
    allow = ", ".join(allowed)
    return respond(
        body(METHOD_NOT_ALLOWED, f"Method not allowed: {method} (allowed: {allow})", 405),
        405,
        headers={"Allow": allow},
    )


def unavailable() -> JSONResponse:
    """The database cannot be reached: 503 with Retry-After (20503); nothing was written."""
    err = PortingError(20503)
    return JSONResponse(
        body(err.code, err.message, err.http_status),
        status_code=err.http_status,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def internal_error() -> JSONResponse:
    return respond(body(INTERNAL_ERROR, "Internal server error", 500), 500)


def invalid(message: str, field: str | None = None) -> PortingError:
    """A malformed parameter of the REST surface (20001, 400)."""
    return PortingError(20001, message, field)
