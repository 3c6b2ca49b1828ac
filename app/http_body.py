"""Request bodies for every transport: read with a cap, decoded as JSON without surprises.

- `read_capped(request, limit)` streams the body and stops with `BodyTooLarge` as soon as it
  passes `limit` bytes (or at once when Content-Length already says so): the rest is never
  read, let alone buffered. The transport answers 413; uvicorn closes the connection.
- `decode_json(raw)` is `json.loads` with bounds: at most MAX_DEPTH levels of nesting, numbers
  of at most MAX_NUMBER_CHARS characters and finite, no NaN/Infinity, valid UTF-8. Anything
  else raises `MalformedJson`, whose message says what is wrong and where (line, column) and
  never quotes the input: the body may hold secrets, and an error must not echo them.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 64


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body too large: at most {limit} bytes")
        self.limit = limit


class MalformedJson(ValueError):
    """A body or message that is not acceptable JSON; the message quotes nothing of it."""


def declared_length(request: Request) -> int | None:
    declared = (request.headers.get("content-length") or "").strip()
    # isdigit() alone admits characters such as "\u00b9" that int() refuses.
    if declared.isascii() and declared.isdigit():
        return int(declared)
    return None


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes `limit` bytes."""
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _number_too_long(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedJson(f"a number longer than {MAX_NUMBER_CHARS} characters")


def _int(text: str) -> int:
    _number_too_long(text)
    return int(text)


def _float(text: str) -> float:
    _number_too_long(text)
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJson("a number out of range")
    return value


def _constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not valid JSON")


def _check_depth(value: Any) -> None:
    """Iterative (an absurd depth must not recurse): containers only, so a small document
    costs next to nothing."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedJson(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


def decode_json(raw: bytes | str) -> Any:
    """The JSON value of `raw`, or MalformedJson with a message that quotes none of it."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedJson("Malformed JSON: not valid UTF-8") from None
    else:
        text = raw
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except MalformedJson as exc:
        raise MalformedJson(f"Malformed JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise MalformedJson(f"Malformed JSON: {exc.msg} at {where}") from None
    except RecursionError:
        raise MalformedJson(f"Malformed JSON: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # e.g. a lone surrogate the scanner refuses
        raise MalformedJson("Malformed JSON") from None
    try:
        _check_depth(value)
    except MalformedJson as exc:
        raise MalformedJson(f"Malformed JSON: {exc}") from None
    return value
