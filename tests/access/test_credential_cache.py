"""Cached verified credentials (issue 17 point 6): a verified secret is remembered a few seconds
(the next request reads no credential from the database), wrong secrets never are, entries
expire, and a change of a credential (the bus) drops them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.services.context import Caller, Services
from app.services.credential_cache import EVERY, CredentialCache
from app.store.counting import HEADER
from app.wiring import build_services
from tests.access.support import ORDERS, listening
from tests.builders import basic, tenant


@pytest.fixture
async def counted(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The app with SQL statements counted per request (the benchmarks' header)."""
    counting = settings.model_copy(update={"debug_count_sql": True, "auth_cache_seconds": 5.0})
    svc = build_services(counting)
    await listening(svc)
    app = create_app(counting, svc)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http, svc
    await svc.close()


async def statements(http: httpx.AsyncClient, authorization: str) -> int:
    response = await http.get(ORDERS, headers={"Authorization": authorization})
    return int(response.headers[HEADER.decode()])


async def test_a_verified_auth_token_costs_no_statement_the_next_time(
    counted: tuple[httpx.AsyncClient, Services],
) -> None:
    http, svc = counted
    alice = await tenant(svc)
    first = await statements(http, alice.authorization)
    second = await statements(http, alice.authorization)
    assert second == first - 1  # the account's row was not read again
    # a wrong secret is checked against the database every time
    wrong = basic(alice.sid, "0" * 32)
    response = await http.get(ORDERS, headers={"Authorization": wrong})
    assert response.status_code == 401
    assert int(response.headers[HEADER.decode()]) == 1
    assert (
        int((await http.get(ORDERS, headers={"Authorization": wrong})).headers[HEADER.decode()])
        == 1
    )


async def test_a_new_subaccount_is_visible_to_its_parent_at_once(
    counted: tuple[httpx.AsyncClient, Services],
) -> None:
    http, svc = counted
    parent = await tenant(svc)
    await statements(http, parent.authorization)  # cached with its family
    child = await tenant(svc, parent=parent)
    response = await http.get(
        ORDERS, params={"AccountSid": child.sid}, headers={"Authorization": parent.authorization}
    )
    assert response.status_code == 200, response.text  # (a stale family would say 20404)


def caller(sid: str) -> Caller:
    return Caller(sid, "account", frozenset({sid}))


def test_entries_expire_and_go_when_their_credential_changes() -> None:
    now = [0.0]
    cache = CredentialCache(5, lambda: True, clock=lambda: now[0])
    cache.put("AC1", "s1", caller("AC1"))
    cache.put("SK2", "s2", caller("AC1"))
    cache.put("AC3", "s3", caller("AC3"))
    assert cache.get("AC1", "s1") == caller("AC1")
    assert cache.get("AC1", "other") is None  # keyed by the secret's digest too
    cache.forget("SK2")
    assert cache.get("SK2", "s2") is None and cache.get("AC3", "s3") is not None
    cache.forget("AC1")  # the caller's own SID drops every entry acting as it
    assert cache.get("AC1", "s1") is None
    now[0] = 5.0
    assert cache.get("AC3", "s3") is None  # expired
    cache.put("AC3", "s3", caller("AC3"))
    cache.forget(EVERY)
    assert len(cache) == 0
    # an access token minted with an API key goes with the key
    cache.put("bearer", "t1", Caller("AC1", "account", frozenset({"AC1"}), key_sid="SK9"))
    cache.forget("SK9")
    assert cache.get("bearer", "t1") is None


def test_nothing_is_kept_while_the_bus_cannot_hear_the_other_replicas() -> None:
    hearing = [True]
    cache = CredentialCache(5, lambda: hearing[0])
    cache.put("AC1", "s1", caller("AC1"))
    hearing[0] = False
    assert cache.get("AC1", "s1") is None and len(cache) == 0
    cache.put("AC1", "s1", caller("AC1"))
    assert len(cache) == 0
