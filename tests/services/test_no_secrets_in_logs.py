"""No secret in logs (issue 2, item 14): with every logger at DEBUG, SQLAlchemy's engine
included, the services run create, update, cancel, failing validation and authentication
with sentinel secrets, and no sentinel appears anywhere in the output."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from app.porting.errors import PortingError, PortingErrors
from app.services import accounts, loas, port_orders, reads
from app.services.context import Services
from app.wiring import build_services
from tests.builders import mobile_input, signature

PIN = "PINSENTINEL42"
ACCOUNT_NUMBER = "ACCTSENTINEL-7731"
SSN = "8642"
BAD_PIN = "BAD PIN SENTINEL!"  # invalid: spaces and "!"
BAD_SSN = "86x2"
WRONG_TOKEN = "wrongtoken-sentinel-0f9e8d7c"

NOISY = ["sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm", "aiosqlite", "asyncpg", "app"]


@pytest.fixture
def debug_output() -> Iterator[io.StringIO]:
    """Every logger at DEBUG, every record formatted (with tracebacks) into one buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    manager = logging.Logger.manager
    names = set(manager.loggerDict) | set(NOISY)
    saved = {
        name: (logging.getLogger(name).level, logging.getLogger(name).propagate) for name in names
    }
    root = logging.getLogger()
    root_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in names:
        lg = logging.getLogger(name)
        lg.setLevel(logging.DEBUG)
        if not lg.propagate:
            lg.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(root_level)
        for name, (level, _) in saved.items():
            lg = logging.getLogger(name)
            lg.setLevel(level)
            if handler in lg.handlers:
                lg.removeHandler(handler)


def leaks(text: str, secrets: list[str]) -> list[str]:
    found = [s for s in secrets if s in text]
    # four digits can occur by chance inside hex SIDs or numbers: look for it as a token
    if re.search(rf"(?<![0-9A-Za-z]){SSN}(?![0-9A-Za-z])", text):
        found.append(SSN)
    return found


async def test_no_secret_reaches_any_log(
    svc: Services, debug_output: io.StringIO, capfd: pytest.CaptureFixture[str]
) -> None:
    # a fresh Services, built after logging was turned up, so its engines log from the start
    svc = build_services(svc.settings)
    log = logging.getLogger("tests.no_secrets")
    try:
        _, creds = await accounts.create_account(svc, "Main")
        op = await accounts.create_operator(svc, "Ops")
        caller = await accounts.authenticate(svc, creds.sid, creds.secret)
        assert caller is not None
        assert await accounts.authenticate(svc, creds.sid, WRONG_TOKEN) is None
        assert await accounts.authenticate(svc, op.sid, op.secret) is not None

        raw = mobile_input(pin_number=PIN, account_number=ACCOUNT_NUMBER, ssn_last_four=SSN)
        order = await port_orders.create_port_order(svc, caller, raw)
        # failing validation with bad values, logged the way a transport would log it
        for bad in (
            mobile_input(pin_number=BAD_PIN, account_number=ACCOUNT_NUMBER, ssn_last_four=SSN),
            mobile_input(pin_number=PIN, account_number=ACCOUNT_NUMBER, ssn_last_four=BAD_SSN),
            mobile_input(pin_number=PIN, account_number=ACCOUNT_NUMBER, email="nope"),
        ):
            with pytest.raises(PortingErrors) as info:
                await port_orders.create_port_order(svc, caller, bad)
            log.exception("request refused: %s", info.value, exc_info=info.value)
            log.info("errors: %r", info.value.errors)
        with pytest.raises(PortingErrors) as info:
            await port_orders.update_port_order(
                svc, caller, order.sid, {"pin_number": BAD_PIN, "ssn_last_four": BAD_SSN}
            )
        log.exception("update refused: %s", info.value, exc_info=info.value)
        await port_orders.update_port_order(svc, caller, order.sid, {"company_name": "Acme"})
        await port_orders.update_port_order(svc, caller, order.sid, {"pin_number": PIN + "X"})
        assert await reads.get_port_order(svc, caller, order.sid) is not None
        await loas.request_signature(svc, caller, order.loa_sid)
        await loas.sign(svc, order.loa_sid, signature())
        with pytest.raises(PortingError) as refused:  # a mobile order after signature: 21832
            await port_orders.cancel_port_order(svc, caller, order.sid)
        log.exception("cancel refused: %s", refused.value, exc_info=refused.value)
        other = await port_orders.create_port_order(
            svc,
            caller,
            mobile_input(pin_number=PIN, account_number=ACCOUNT_NUMBER, ssn_last_four=SSN),
        )
        await port_orders.cancel_port_order(svc, caller, other.sid)
    finally:
        await svc.close()

    out, err = capfd.readouterr()
    text = debug_output.getvalue() + out + err
    # the capture is real: SQLAlchemy logged its statements at DEBUG/INFO
    assert "INSERT INTO port_orders" in text
    assert "sqlalchemy.engine" in text
    assert "[SQL parameters hidden due to hide_parameters=True]" in text
    assert "Row (" in text  # result rows too: the stored values are ciphertext
    secrets = [PIN, ACCOUNT_NUMBER, BAD_PIN, BAD_SSN, WRONG_TOKEN, creds.secret, op.secret]
    assert leaks(text, secrets) == []
