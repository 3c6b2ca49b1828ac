"""Write-only storage (CONTRACT.md §2, issue 2 item 10): PIN, account number, SSN last four and auth
tokens are stored encrypted; the raw rows hold ciphertext only; tokens compare in constant time."""

from __future__ import annotations

import hmac

import pytest
from sqlalchemy import RowMapping, select
from sqlmodel import SQLModel

from app.porting.statuses import PortOrderStatus
from app.services import accounts, port_orders
from app.services.context import Services
from app.store.secrets import Cipher
from app.store.tables import Account, Operator, PortOrder
from tests.builders import account, mobile_input
from tests.conftest import Snapshot, snapshot

PIN, ACCOUNT_NUMBER, SSN = "Q7PIN5521Z", "ACCT-SENTINEL-90817", "8642"


def dump(snap: Snapshot) -> str:
    return "\n".join(repr(row) for rows in snap.values() for row in rows)


async def raw_row(svc: Services, model: type[SQLModel], sid: str) -> RowMapping:
    """The row as the database holds it (a Core select: no ORM, no decoding of our own)."""
    table = SQLModel.metadata.tables[str(model.__tablename__)]
    async with svc.db.read() as s:
        return (await s.execute(select(table).where(table.c.sid == sid))).one()._mapping


async def test_write_only_fields_are_ciphertext_at_rest(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(
        svc,
        caller,
        mobile_input(pin_number=PIN, account_number=ACCOUNT_NUMBER, ssn_last_four=SSN),
    )
    assert order.status == PortOrderStatus.PENDING
    row = await raw_row(svc, PortOrder, order.sid)
    assert "pin_number" not in row and "ssn_last_four" not in row and "account_number" not in row
    stored = row["secrets_enc"]
    assert isinstance(stored, str) and stored.startswith("gAAAA")  # a Fernet token
    for value in (PIN, ACCOUNT_NUMBER):
        assert value not in stored
    assert svc.cipher.decrypt_json(stored) == {
        "pin_number": PIN,
        "account_number": ACCOUNT_NUMBER,
        "ssn_last_four": SSN,
    }
    everything = dump(await snapshot(svc))  # every column of every table, events included
    assert PIN not in everything and ACCOUNT_NUMBER not in everything
    assert f"'{SSN}'" not in everything and f'"{SSN}"' not in everything


async def test_updates_keep_or_replace_the_secrets(svc: Services) -> None:
    caller = await account(svc)
    raw = mobile_input(pin_number=PIN, account_number=ACCOUNT_NUMBER, ssn_last_four=SSN)
    order = await port_orders.create_port_order(svc, caller, raw)
    await port_orders.update_port_order(svc, caller, order.sid, {"company_name": "Acme"})
    row = await raw_row(svc, PortOrder, order.sid)
    assert svc.cipher.decrypt_json(row["secrets_enc"])["pin_number"] == PIN
    await port_orders.update_port_order(svc, caller, order.sid, {"pin_number": "NEWPIN1"})
    row2 = await raw_row(svc, PortOrder, order.sid)
    assert svc.cipher.decrypt_json(row2["secrets_enc"]) == {
        "pin_number": "NEWPIN1",
        "account_number": ACCOUNT_NUMBER,
        "ssn_last_four": SSN,
    }


async def test_tokens_are_ciphertext_at_rest(svc: Services) -> None:
    acc, creds = await accounts.create_account(svc, "Main")
    op = await accounts.create_operator(svc, "Ops")
    acc_row = await raw_row(svc, Account, creds.sid)
    op_row = await raw_row(svc, Operator, op.sid)
    assert creds.secret not in acc_row["auth_token_enc"]
    assert svc.cipher.decrypt(acc_row["auth_token_enc"]) == creds.secret
    assert op.secret not in op_row["token_enc"]
    assert svc.cipher.decrypt(op_row["token_enc"]) == op.secret
    everything = dump(await snapshot(svc))
    assert creds.secret not in everything and op.secret not in everything


def test_cipher_properties() -> None:
    one = Cipher("k" * 32)
    a, b = one.encrypt("1234"), one.encrypt("1234")
    assert a != b  # random IV: equal secrets do not show as equal ciphertexts
    assert one.decrypt(a) == one.decrypt(b) == "1234"
    with pytest.raises(ValueError) as info:
        Cipher("z" * 32).decrypt(a)  # another key cannot read it ...
    assert "1234" not in str(info.value) and a not in str(info.value)  # ... nor echo it


async def test_tokens_compare_in_constant_time(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("app.store.secrets.hmac.compare_digest", spy)
    _, creds = await accounts.create_account(svc)
    op = await accounts.create_operator(svc)
    assert await accounts.authenticate(svc, creds.sid, creds.secret) is not None
    assert await accounts.authenticate(svc, creds.sid, "wrong") is None
    assert await accounts.authenticate(svc, op.sid, op.secret) is not None
    assert calls == [
        (creds.secret.encode(), creds.secret.encode()),
        (creds.secret.encode(), b"wrong"),
        (op.secret.encode(), op.secret.encode()),
    ]
