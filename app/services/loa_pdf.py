"""The Letter of Authorization as a PDF (fpdf2): the letter's text (app/services/letters.py),
its signer, business name, service address and every number with its current carrier, and,
once signed, the signature block: the signer's typed name, the time, the IP address and the
SHA-256 of the text that was signed.

Text is set in the PDF core font Helvetica when it is all Latin-1 (the common case: nothing to
embed, about a tenth of the time), else in DejaVu Sans when the machine has it (Debian's
fonts-dejavu-core), so names in Latin, Greek, Cyrillic and the other scripts it covers print
as typed (not CJK); without it, characters outside Latin-1 print as "?". fpdf2's own warnings
(a missing glyph, named in the line) are kept out of the logs: they would carry names.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.porting import sids
from app.porting.errors import PortingError
from app.porting.isotime import format_utc
from app.services import letters
from app.services.context import Caller, Services
from app.services.letters import Letter
from app.store import documents as document_queries
from app.store import queries
from app.store.tables import Loa

logging.getLogger("fpdf").setLevel(logging.ERROR)  # its warnings quote the text: names

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
TITLE = "Letter of Authorization"


def file_name(loa: Loa) -> str:
    suffix = "-signed" if loa.signed_date is not None else ""
    return f"LOA-{loa.sid}{suffix}.pdf"


def _latin1(*texts: str | None) -> bool:
    try:
        for text in texts:
            (text or "").encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


class _Pdf(FPDF):
    def __init__(self, latin1: bool) -> None:
        super().__init__(format="Letter")
        self.unicode = not latin1 and REGULAR.exists() and BOLD.exists()
        if self.unicode:
            self.add_font("DejaVu", "", str(REGULAR))
            self.add_font("DejaVu", "B", str(BOLD))
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(20, 18, 20)

    def text_of(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def line_of(self, text: str, *, size: float = 11, bold: bool = False, gap: float = 0) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            self.ln(gap)

    def field(self, label: str, value: str) -> None:
        self.set_font(self.family, "B", 11)
        self.cell(48, 6, self.text_of(label))
        self.set_font(self.family, "", 11)
        self.multi_cell(0, 6, self.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


async def pdf_of(svc: Services, caller: Caller, loa_sid: str) -> tuple[Loa, bytes]:
    """REST `GET /porting/Loas/{sid}/Pdf`: the letter as it stands (20404 for an LOA the caller
    may not read); once signed, the PDF stored at signing, which shows exactly what was
    signed."""
    if not sids.is_sid(loa_sid, sids.LOA):
        raise PortingError(20404, field="sid")
    async with svc.db.read() as s:
        loa = await queries.loa(s, loa_sid, caller.visible)
        if loa is None:
            raise PortingError(20404, field="sid")
        if loa.signed_date is not None:
            stored = await document_queries.stored_loa_pdf(s, loa.sid, file_name(loa))
            if stored is not None:
                return loa, stored
        orders = list(await queries.port_orders_of_loa(s, loa.sid))
    return loa, render(letters.letter_of(loa, orders), loa)


def render(letter: Letter, loa: Loa) -> bytes:
    """The PDF of `letter` (the text the LOA `loa` shows now, or showed when it was signed)."""
    pdf = _Pdf(_latin1(letter.text, loa.signer_name, loa.signer_ip))
    pdf.set_title(f"{TITLE} {loa.sid}")
    pdf.set_author("Portico")
    pdf.set_creation_date(loa.signed_date or loa.date_created)
    pdf.add_page()
    pdf.line_of(TITLE, size=18, bold=True, gap=2)
    pdf.line_of(f"{loa.sid} ({loa.status})", size=9, gap=4)
    pdf.field("Authorised signer", f"{letter.signer} <{letter.email}>")
    pdf.field("Business name", letter.business_name or "-")
    pdf.field("Service address", ", ".join(letter.address))
    pdf.ln(2)
    pdf.line_of(f"Numbers ({len(letter.numbers)}) and their current carrier", bold=True, gap=1)
    pdf.set_font(pdf.family, "", 10)
    for number in letter.numbers:  # one short line each: a cell, no line breaking to compute
        pdf.cell(0, 5, pdf.text_of(f"  {number}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    for paragraph in letter.paragraphs:
        pdf.line_of(paragraph, gap=3)
    if loa.signed_date is not None:
        pdf.ln(4)
        pdf.line_of("Signature", size=13, bold=True, gap=1)
        pdf.field("Signed by", loa.signer_name or "-")
        pdf.field("Signed at", format_utc(loa.signed_date) or "-")
        pdf.field("From IP address", loa.signer_ip or "-")
        pdf.line_of("SHA-256 of the signed text", bold=True)
        pdf.line_of(loa.signed_text_sha256 or "-", size=9)
    else:
        pdf.ln(4)
        pdf.line_of(
            "Not signed yet: the signer signs on the page linked from the signature request email.",
            size=10,
        )
    return bytes(pdf.output())
