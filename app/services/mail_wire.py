"""A composed mail's bytes: plain text and HTML alternatives under six headers.

`message` builds it with the email package (any content: encoded words, non-ASCII bodies,
folding), which costs milliseconds per message: its header registry parses every header it
is given and parses it again to write it. `plain` writes the same bytes directly when that
takes no encoding decision at all: every header a short ASCII value the email package writes
as it was given, both bodies ASCII with lines of at most 998 characters (7bit). It answers
None otherwise, and the caller takes `message`. tests/delivery/test_mail_wire.py holds the two
to the same bytes.
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Mapping
from email.message import EmailMessage

# Lines up to RFC 5322's 998 characters: ASCII bodies stay 7bit and readable as they are
# (the signing link is not cut by quoted-printable soft line breaks in an .eml file).
POLICY = email.policy.default.clone(max_line_length=998)
MAX_HEADER_LINE = 78  # what the SMTP policy would fold: a plain header stays below it
MAX_BODY_LINE = 998

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_ADDRESS = re.compile(rf"{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_NAMED = re.compile(
    rf"[A-Za-z0-9]+(?: [A-Za-z0-9]+)* <{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>\Z"
)
# Words of printable ASCII separated by single spaces, no encoded-word opener.
_TEXT = re.compile(r"[!-~]+(?: [!-~]+)*\Z")
_MESSAGE_ID = re.compile(rf"<{_DOT_ATOM}@{_DOT_ATOM}>\Z")
_DATE = re.compile(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\Z")

_CHECKS = {
    "From": lambda v: bool(_ADDRESS.match(v) or _NAMED.match(v)),
    "To": lambda v: bool(_ADDRESS.match(v)),
    "Subject": lambda v: bool(_TEXT.match(v)) and "=?" not in v,
    "Date": lambda v: bool(_DATE.match(v)),
    "Message-ID": lambda v: bool(_MESSAGE_ID.match(v)),
    "X-Portico-Kind": lambda v: bool(_TEXT.match(v)) and "=?" not in v,
}


def message(headers: Mapping[str, str], text: str, html: str, boundary: str) -> EmailMessage:
    """The email package's message (`headers` in order: the six of _CHECKS)."""
    m = EmailMessage(policy=POLICY)
    for name, value in headers.items():
        m[name] = value
    m.set_content(text)
    m.add_alternative(html, subtype="html")
    m.set_boundary(boundary)
    return m


def _body(text: str) -> bytes | None:
    """As the email package writes a 7bit text part: its lines joined by "\\n", one at the
    end; None when it would choose another encoding."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    lines = raw.splitlines()
    if any(len(line) > MAX_BODY_LINE for line in lines):
        return None
    return b"\n".join(lines) + b"\n"


def plain(headers: Mapping[str, str], text: str, html: str, boundary: str) -> bytes | None:
    """`message(...).as_bytes()`, written directly; None when it takes the email package."""
    if list(headers) != list(_CHECKS):
        return None
    lines: list[str] = []
    for name, value in headers.items():
        line = f"{name}: {value}"
        if len(line) > MAX_HEADER_LINE or not _CHECKS[name](value):
            return None
        lines.append(line)
    text_body, html_body = _body(text), _body(html)
    if text_body is None or html_body is None or not _TEXT.match(boundary):
        return None
    head = "\n".join(lines)
    mark = boundary.encode("ascii")
    return b"".join(
        (
            head.encode("ascii"),
            b'\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="',
            mark,
            b'"\n\n--',
            mark,
            b'\nContent-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 7bit\n\n',
            text_body,
            b"\n--",
            mark,
            b'\nContent-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: 7bit'
            b"\nMIME-Version: 1.0\n\n",
            html_body,
            b"\n--",
            mark,
            b"--\n",
        )
    )
