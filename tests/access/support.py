"""Helpers of the access tests: API keys and access tokens made through the real paths."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.services import api_keys
from app.services.context import Services
from tests.builders import Tenant, basic

ORDERS = "/porting/PortOrders"
TOKENS = "/porting/AccessTokens"


async def api_key(svc: Services, owner: Tenant, *, read_only: bool = False) -> tuple[str, str]:
    made = await api_keys.create_api_key(svc, None, owner.sid, read_only=read_only)
    return made.key.sid, made.secret


async def listening(svc: Services) -> None:
    """Start the bus (the in-process app has no lifespan) and wait until it hears replicas."""
    await svc.start()
    async with asyncio.timeout(10):
        while not svc.bus.listening:  # noqa: ASYNC110 (the LISTEN connection's state)
            await asyncio.sleep(0.01)


async def access_token(http: httpx.AsyncClient, authorization: str, **params: Any) -> str:
    response = await http.post(TOKENS, json=params, headers={"Authorization": authorization})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def graphql(
    http: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: object
) -> dict[str, Any]:
    """A GraphQL request with these headers (a credential): its body, after a 200."""
    r = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def key_auth(sid: str, secret: str) -> dict[str, str]:
    return {"Authorization": basic(sid, secret)}
