"""The error catalog (app/porting/errors.py) and CONTRACT.md §7's table are one list: every
Portico code (21xxx) the service can raise is documented there, and every documented code is
in the catalog, with the HTTP status REST answers it with."""

from __future__ import annotations

import re
from pathlib import Path

from app.porting.errors import CATALOG

CONTRACT = Path(__file__).resolve().parents[2] / "app" / "CONTRACT.md"


def documented() -> dict[int, str]:
    text = CONTRACT.read_text()
    section = text.split("\n## 7. ", 1)[1].split("\n## ", 1)[0]
    return {
        int(code): meaning
        for code, meaning in re.findall(r"^\| (\d{5}) \| (.+) \|$", section, re.M)
    }


def test_the_contract_table_and_the_catalog_hold_the_same_portico_codes() -> None:
    table = documented()
    portico = {code for code in CATALOG if code >= 21000}
    assert set(table) == portico
    assert all(meaning.strip() for meaning in table.values())


def test_the_workflow_codes_are_catalogued_with_their_http_status() -> None:
    """Issue 13's refused documents (21851-21855), comments (21850) and exceptions (21856-21858)."""
    statuses = {code: CATALOG[code][1] for code in range(21850, 21859)}
    assert statuses == {
        21850: 400,
        21851: 400,
        21852: 400,
        21853: 400,
        21854: 413,
        21855: 415,
        21856: 400,
        21857: 400,
        21858: 400,
    }
