"""`portico accounts webhook-secret|rotate-webhook-secret SID` (the administrator's view)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from app import cli
from tests.conftest import SECRET


def test_read_and_rotate_the_webhook_secret(
    sqlite_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PORTICO_DATABASE_URL", sqlite_database)
    monkeypatch.setenv("PORTICO_SECRET_KEY", SECRET)
    monkeypatch.setenv("PORTICO_VAR_DIR", str(tmp_path / "var"))
    assert cli.main(["accounts", "create", "--json"]) == 0
    sid = json.loads(capsys.readouterr().out)["sid"]

    assert cli.main(["accounts", "webhook-secret", sid]) == 0
    first = capsys.readouterr().out.strip()
    assert cli.main(["accounts", "rotate-webhook-secret", sid]) == 0
    rotated = capsys.readouterr().out.strip()
    assert cli.main(["accounts", "webhook-secret", sid]) == 0
    now = capsys.readouterr().out.strip()

    assert first.startswith("whsec_") and rotated.startswith("whsec_")
    assert rotated != first and now == rotated
    Webhook(rotated)  # a secret the standardwebhooks package accepts
    with pytest.raises(SystemExit):
        cli.main(["accounts", "rotate-webhook-secret"])
    capsys.readouterr()
    assert cli.main(["accounts", "rotate-webhook-secret", "AC" + "0" * 32]) == 1
    assert "20404" in capsys.readouterr().err
