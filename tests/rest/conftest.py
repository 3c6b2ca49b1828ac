"""REST tests: the app in process (tests/conftest.py's `http`) or a real uvicorn on loopback
(`live_server`), both on the test's own database; the paths and the error shape."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col

from app.services.context import Services
from app.store.tables import PortOrder

ORDERS = "/porting/PortOrders"
LOAS = "/porting/Loas"


async def set_columns(svc: Services, sid: str, **values: Any) -> None:
    """Test setup for columns only operators write (provider_sid, zendesk_id, ...)."""
    async with svc.transaction() as tx:
        await tx.execute(update(PortOrder).where(col(PortOrder.sid) == sid).values(**values))


def assert_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str) and body["message"]
    return body
