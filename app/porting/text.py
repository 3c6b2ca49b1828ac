"""The character policies of string inputs (CONTRACT.md §7, "Input limits"), in one place for
every input: a port order's fields (validation.py, from their declarations in fields.py), an
API key's friendly name, a comment's body and an operator's texts.

Pure: no I/O, no framework, no other app module.
"""

from __future__ import annotations

import unicodedata

PLAIN = "plain"  # no control characters (C0, DEL, C1), no lone surrogates
NAME = "name"  # PLAIN, and no bidirectional controls (U+202A-E, U+2066-9, U+200E/F, U+061C):
# names and addresses, which letters, emails and pages show to people
LINES = "lines"  # PLAIN, but line breaks and tabs (LF, CR, TAB) allowed: a comment's body

TOO_LONG = 21860
BAD_CHARACTERS = 21861

# Bidirectional controls: embeddings and overrides (U+202A-E), isolates (U+2066-9), the marks
# (U+200E, U+200F) and the Arabic letter mark (U+061C). They reorder what people read.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_LINE_BREAKS = frozenset("\n\r\t")


def refused_text(value: str, max_length: int, chars: str | None) -> int | None:
    """Why a string input is refused (TOO_LONG, BAD_CHARACTERS), or None. Control characters
    (Unicode Cc: C0, DEL, C1) and lone surrogates never (LINES: but LF, CR and TAB);
    bidirectional controls not in names and addresses (NAME)."""
    if len(value) > max_length:
        return TOO_LONG
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs" or (category == "Cc" and not (chars == LINES and ch in _LINE_BREAKS)):
            return BAD_CHARACTERS
        if chars == NAME and ch in BIDI:
            return BAD_CHARACTERS
    return None
