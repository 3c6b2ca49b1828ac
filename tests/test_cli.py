"""The real `portico` console script, run as a subprocess against a temporary database."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.config import Settings
from app.services import accounts
from app.wiring import build_services
from tests.conftest import pg_admin, pg_dsn

PORTICO = Path(sys.executable).parent / "portico"
SID = re.compile(r"^AC[0-9a-f]{32}$")


def env_for(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update(PORTICO_DATABASE_URL=database_url, PORTICO_VAR_DIR=str(var_dir))
    return env


def portico(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(PORTICO), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def together(env: dict[str, str], *commands: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """Run independent commands at once (each process pays Python's start-up on its own)."""
    procs = [
        subprocess.Popen(
            [str(PORTICO), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def one_json_object(stdout: str) -> dict[str, object]:
    """stdout is exactly one JSON object (and nothing else but the final newline)."""
    data, end = json.JSONDecoder().raw_decode(stdout)
    assert stdout[end:].strip() == "", stdout
    assert isinstance(data, dict)
    return data


async def check_token(database_url: str, var_dir: Path, sid: str, token: str) -> bool:
    svc = build_services(Settings(database_url=database_url, var_dir=var_dir))
    try:
        return await accounts.authenticate(svc, sid, token) is not None
    finally:
        await svc.close()


def test_cli_on_sqlite(tmp_path: Path) -> None:
    var = tmp_path / "var"
    url = f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}"
    env = env_for(url, var)
    portico(env, "migrate")
    again = portico(env, "migrate")  # idempotent: nothing left to run
    assert "Running upgrade" not in again.stderr

    parent = one_json_object(portico(env, "accounts", "create", "--json").stdout)
    assert (var / "secret_key").exists()  # the embedded default key, generated on first use
    assert SID.match(str(parent["sid"]))
    assert re.fullmatch(r"[0-9a-f]{32}", str(parent["auth_token"]))
    assert parent["parent_sid"] is None

    (rc_sub, out_sub, err_sub), (rc_op, out_op, err_op), (rc_bad, out_bad, err_bad) = together(
        env,
        (
            "accounts",
            "create",
            "--json",
            "--parent",
            str(parent["sid"]),
            "--friendly-name",
            "Branch office",
        ),
        ("operators", "create", "--json"),
        ("accounts", "create", "--json", "--parent", "AC" + "0" * 32),
    )
    assert rc_sub == 0, err_sub
    sub = one_json_object(out_sub)
    assert sub["parent_sid"] == parent["sid"] and sub["friendly_name"] == "Branch office"
    assert asyncio.run(check_token(url, var, str(sub["sid"]), str(sub["auth_token"])))
    assert rc_op == 0, err_op
    op = one_json_object(out_op)
    assert set(op) == {"sid", "token"} and str(op["sid"]).startswith("OP")
    # bad input: a clear error, nothing on stdout, no traceback
    assert rc_bad == 1 and out_bad == ""
    assert "20404" in err_bad and "Traceback" not in err_bad

    listing = portico(env, "accounts", "list").stdout
    assert str(parent["sid"]) in listing
    assert f"{sub['sid']}  Branch office  (subaccount of {parent['sid']})" in listing
    assert str(parent["auth_token"]) not in listing  # tokens are shown once, at creation
    assert len(listing.strip().splitlines()) == 2


@pytest.fixture
def empty_pg_database(pg_template: str) -> Iterator[str]:
    """A new, empty (unmigrated) PostgreSQL database; its plain postgresql:// URL."""
    name = f"portico_cli_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    yield pg_dsn(name)
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.postgres
def test_cli_on_postgres(empty_pg_database: str, tmp_path: Path) -> None:
    url = make_url(empty_pg_database).set(drivername="postgresql+asyncpg")
    env = env_for(url.render_as_string(hide_password=False), tmp_path / "var")
    portico(env, "migrate")
    portico(env, "migrate")
    created = one_json_object(portico(env, "accounts", "create", "--json").stdout)
    assert SID.match(str(created["sid"]))
