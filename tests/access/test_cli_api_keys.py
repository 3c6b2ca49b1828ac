"""`portico api-keys create / list / revoke` (issue 14, point 1), the real console script
against a migrated SQLite file: the secret printed once (JSON or text), a list without
secrets, revocation, and clear errors for an unknown account or key."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from app.config import Settings
from app.services import credentials
from app.wiring import build_services
from tests.test_cli import env_for, one_json_object, portico, together

SK = re.compile(r"SK[0-9a-f]{32}")


async def works(url: str, var: Path, sid: str, secret: str) -> bool:
    svc = build_services(Settings(database_url=url, var_dir=var))
    try:
        return await credentials.authenticate(svc, sid, secret) is not None
    finally:
        await svc.close()


def test_api_keys_from_the_command_line(tmp_path: Path) -> None:
    var = tmp_path / "var"
    url = f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}"
    env = env_for(url, var)
    portico(env, "migrate")
    account = one_json_object(portico(env, "accounts", "create", "--json").stdout)
    acc = str(account["sid"])
    (rc_json, out_json, err_json), (rc_text, out_text, _), (rc_bad, out_bad, err_bad) = together(
        env,
        (
            "api-keys",
            "create",
            "--account",
            acc,
            "--read-only",
            "--friendly-name",
            "Screens",
            "--json",
        ),
        ("api-keys", "create", "--account", acc),
        ("api-keys", "create", "--account", "AC" + "0" * 32),
    )
    assert rc_json == 0, err_json
    made = one_json_object(out_json)
    assert SK.fullmatch(str(made["sid"])) and made["read_only"] is True
    assert made["friendly_name"] == "Screens" and made["account_sid"] == acc
    assert re.fullmatch(r"[0-9a-f]{32}", str(made["secret"]))
    assert rc_text == 0 and "Secret:" in out_text and "shown once" in out_text
    text_sid = SK.search(out_text)
    assert text_sid is not None
    assert rc_bad == 1 and out_bad == "" and "20404" in err_bad
    assert asyncio.run(works(url, var, str(made["sid"]), str(made["secret"])))

    listed = json.loads(portico(env, "api-keys", "list", "--account", acc, "--json").stdout)
    assert {k["sid"] for k in listed} == {made["sid"], text_sid.group(0)}
    assert all("secret" not in k for k in listed)
    assert str(made["secret"]) not in portico(env, "api-keys", "list").stdout

    assert portico(env, "api-keys", "revoke", str(made["sid"])).stdout.strip().endswith("revoked")
    assert not asyncio.run(works(url, var, str(made["sid"]), str(made["secret"])))
    listed = json.loads(portico(env, "api-keys", "list", "--json").stdout)
    revoked = next(k for k in listed if k["sid"] == made["sid"])
    assert revoked["date_revoked"] is not None
    unknown = portico(env, "api-keys", "revoke", "SK" + "0" * 32, ok=False)
    assert unknown.returncode == 1 and "20404" in unknown.stderr
