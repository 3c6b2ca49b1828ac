"""Documents of a port order (pure): their types, and what a file is, by its bytes.

A file is recognised by its first bytes (the `filetype` package's signatures), never by its
name or the content type a client claims: PDF, PNG and JPEG only (21853 otherwise).
"""

from __future__ import annotations

import enum
import re
import unicodedata

import filetype

from app.porting.errors import PortingError

ALLOWED = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}
SNIFF_BYTES = 261  # what filetype reads to decide
MAX_FILE_NAME = 255


class DocumentType(enum.StrEnum):
    UTILITY_BILL = "utility_bill"
    INVOICE = "invoice"
    CSR = "csr"  # a customer service record
    LOA = "loa"
    OTHER = "other"


def parse_type(value: object) -> DocumentType:
    if isinstance(value, str):
        try:
            return DocumentType(value.strip().lower())
        except ValueError:
            pass
    raise PortingError(21851, field="document_type")


def content_type(head: bytes) -> str:
    """The content type of a file from its first bytes (at least SNIFF_BYTES of them when the
    file is that long); 21853 for anything but PDF, PNG and JPEG."""
    kind = filetype.guess(head)
    if kind is None or kind.extension not in ALLOWED:
        raise PortingError(21853, field="file")
    return ALLOWED[kind.extension]


def clean_file_name(name: str | None, content: str) -> str:
    """The file name to keep: the last path segment, without control characters, at most
    MAX_FILE_NAME characters; a default from the type when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if not base:
        base = "document." + {v: k for k, v in ALLOWED.items()}[content]
    return base[-MAX_FILE_NAME:]
