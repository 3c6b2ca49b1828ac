"""Reading a document upload: multipart/form-data, streamed, never buffered past the cap.

The body is parsed as it arrives (python-multipart's streaming parser): the `file` part's bytes
are kept up to PORTICO_DOCUMENT_MAX_BYTES and one more refuses the upload at once (21854, 413)
without reading the rest; a declared Content-Length beyond what any allowed upload needs is
refused before a byte is read. The other fields (`document_type`) are small text. Only the
caller's own order gets this far (the route authenticates and finds the order first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.porting.errors import PortingError

FILE = "file"
MAX_FIELD_BYTES = 1024  # a text field of the form (document_type)
MAX_FIELDS = 8
OVERHEAD = 64 * 1024  # boundaries, part headers and the text fields around the file


def too_large(cap: int) -> PortingError:
    return PortingError(21854, f"Document too large: at most {cap} bytes", "file")


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    content: bytearray | None = None  # None: no `file` part


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str | None = None
    file_name: str | None = None
    data: bytearray = field(default_factory=bytearray)


def _boundary(request: Request) -> bytes:
    media, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise PortingError(21855, field="body")
    return boundary


async def read(request: Request, cap: int) -> Upload:
    """The form's text fields and its `file` part (at most `cap` bytes)."""
    boundary = _boundary(request)
    limit = cap + OVERHEAD
    declared = (request.headers.get("content-length") or "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(cap)
    upload = Upload()
    part = _Part()
    header_field = bytearray()
    header_value = bytearray()
    problem: list[PortingError] = []

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        part.headers[bytes(header_field).decode("latin-1").lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(part.headers.get("content-disposition"))
        name = options.get(b"name")
        part.name = name.decode("utf-8", "replace") if name is not None else None
        file_name = options.get(b"filename")
        if file_name is not None:
            part.file_name = file_name.decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if problem:
            return
        part.data.extend(data[start:end])
        if part.name == FILE:
            if len(part.data) > cap:
                problem.append(too_large(cap))
        elif len(part.data) > MAX_FIELD_BYTES:
            problem.append(PortingError(20001, "A form field is too long", part.name))

    def on_part_end() -> None:
        if problem or part.name is None:
            return
        if part.name == FILE:
            if upload.content is None:  # the first `file` part counts
                upload.content, upload.file_name = part.data, part.file_name
        elif len(upload.fields) < MAX_FIELDS:
            upload.fields.setdefault(part.name, part.data.decode("utf-8", "replace"))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(cap)
            parser.write(chunk)
            if problem:
                raise problem[0]  # stop reading: the rest of the body is never looked at
        parser.finalize()
    except MultipartParseError:
        raise PortingError(20001, "Malformed multipart body", "body") from None
    if problem:
        raise problem[0]
    return upload
