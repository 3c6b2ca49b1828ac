"""Reading a request body: JSON or form-encoded, at most 1 MiB.

The result is a list of (name, value) pairs in the order given, so repeated form fields
(`CcEmails=a&CcEmails=b`) survive; a JSON object gives one pair per key. Nothing here knows
parameter names: app/rest/params.py maps them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from app.http_body import MalformedJson, decode_json
from app.porting.errors import PortingError
from app.rest.errors import invalid

MAX_BODY_BYTES = 1 << 20  # 1 MiB
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

Pairs = list[tuple[str, Any]]


def _too_large() -> PortingError:
    return PortingError(20413, f"Request body too large: at most {MAX_BODY_BYTES} bytes")


async def read_bytes(request: Request) -> bytes:
    declared = (request.headers.get("content-length") or "").strip()
    # isdigit() alone admits characters such as "\u00b9" that int() refuses.
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str | None:
    value = request.headers.get("content-type")
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def _is_json(media: str) -> bool:
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def _parse_json(raw: bytes) -> Pairs:
    if not raw.strip():
        return []
    try:
        data = decode_json(raw)  # bounded, and its message quotes nothing of the body
    except MalformedJson as exc:
        raise invalid(str(exc).replace("Malformed JSON", "Malformed JSON body", 1)) from None
    if not isinstance(data, dict):
        raise invalid("Malformed JSON body: expected a JSON object")
    return list(data.items())


def _parse_form(raw: bytes) -> Pairs:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("Malformed form body: not valid UTF-8") from None
    try:
        return list(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except (ValueError, UnicodeDecodeError):
        raise invalid("Malformed form body: invalid percent-encoding") from None


async def read_pairs(request: Request) -> Pairs:
    """The body's parameters. An empty body is no parameters, whatever its content type."""
    raw = await read_bytes(request)
    media = media_type(request)
    if media is not None and _is_json(media):
        return _parse_json(raw)
    if media == FORM:
        return _parse_form(raw)
    if not raw.strip():
        return []
    raise PortingError(
        20415,
        f"Unsupported content type {media or '(none)'}: send {JSON} or {FORM}",
    )
