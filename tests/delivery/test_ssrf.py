"""SSRF: callbacks never reach loopback, link-local or private addresses unless allowed, and
the connection goes to the address that was checked (no DNS rebinding, no redirects)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest

from app.adapters.http import PinnedHttpSender
from app.adapters.ssrf import Resolver, StaticResolver, non_public_reason
from app.config import Settings
from app.services import deliveries, port_orders
from app.services.context import Services
from app.services.deliveries import DeliveryRecord
from app.wiring import build_services
from tests.builders import order_input, tenant
from tests.delivery.conftest import drain, fast
from tests.delivery.receiver import Receiver


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not globally routable"),
        ("224.0.0.1", "multicast"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "loopback (embedded in IPv6)"),
        ("::ffff:169.254.169.254", "link-local (embedded in IPv6)"),
        ("2002:7f00:1::1", "loopback (embedded in IPv6)"),
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_public_or_not(address: str, reason: str | None) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) == reason


class CountingResolver:
    """Answers with each answer in turn, one per call, round and round."""

    def __init__(self, name: str, *answers: list[str]):
        self.name = name
        self.answers = list(answers)
        self.calls = 0

    async def resolve(self, host: str, port: int) -> list[str]:
        assert host == self.name
        answer = self.answers[self.calls % len(self.answers)]
        self.calls += 1
        return answer


def services(settings: Settings, allowed: str, resolver: Resolver | None = None) -> Services:
    s = fast(settings, callback_allowed_networks=allowed, callback_retry_schedule="0.05")
    svc = build_services(s)
    svc.http_sender = PinnedHttpSender.from_settings(s, resolver)
    return svc


async def callbacks_to(svc: Services, url: str) -> list[DeliveryRecord]:
    who = await tenant(svc)
    order = await port_orders.create_port_order(svc, who.caller, order_input(status_callback=url))
    await drain(svc)
    return await deliveries.callback_deliveries(svc, who.caller, order.sid)


def only_error(records: list[DeliveryRecord]) -> str:
    errors = {a.error or "" for r in records for a in r.attempts}
    assert len(errors) == 1, errors
    for r in records:  # blocked targets are given up at once: retrying cannot help
        assert r.delivery.state == "failed" and len(r.attempts) == 1
        assert r.attempts[0].status_code is None
    return errors.pop()


@pytest.fixture
async def closing() -> AsyncIterator[list[Services]]:
    opened: list[Services] = []
    yield opened
    for svc in opened:
        await svc.close()


async def test_loopback_without_the_allow_list_is_never_contacted(
    settings: Settings, receiver: Receiver, closing: list[Services]
) -> None:
    closing.append(svc := services(settings, allowed=""))
    error = only_error(await callbacks_to(svc, receiver.url()))
    assert receiver.received == []
    assert "blocked: 127.0.0.1 is a loopback address" in error
    assert "PORTICO_CALLBACK_ALLOWED_NETWORKS" in error


async def test_metadata_address_is_never_contacted(
    settings: Settings, closing: list[Services]
) -> None:
    resolver = CountingResolver("unused.test", [])
    closing.append(svc := services(settings, allowed="127.0.0.0/8", resolver=resolver))
    error = only_error(await callbacks_to(svc, "http://169.254.169.254/latest/meta-data/"))
    assert error.startswith("blocked: 169.254.169.254 is a link-local address")
    assert resolver.calls == 0  # a literal address needs no resolving


async def test_hex_spelling_of_loopback_is_never_contacted(
    settings: Settings, receiver: Receiver, closing: list[Services]
) -> None:
    closing.append(svc := services(settings, allowed=""))
    error = only_error(await callbacks_to(svc, f"http://0x7f000001:{receiver.port}/cb"))
    assert receiver.received == []
    assert error.startswith("blocked: 0x7f000001 resolves to 127.0.0.1, which is a loopback")


async def test_name_resolving_to_a_private_address_is_never_contacted(
    settings: Settings, receiver: Receiver, closing: list[Services]
) -> None:
    hosts = StaticResolver({"hooks.customer.test": ["127.0.0.1"]})
    closing.append(svc := services(settings, allowed="", resolver=hosts))
    error = only_error(await callbacks_to(svc, f"http://hooks.customer.test:{receiver.port}/cb"))
    assert receiver.received == []
    assert "hooks.customer.test resolves to 127.0.0.1, which is a loopback address" in error


async def test_localhost_is_never_contacted(
    settings: Settings, receiver: Receiver, closing: list[Services]
) -> None:
    closing.append(svc := services(settings, allowed=""))
    error = only_error(await callbacks_to(svc, f"http://localhost:{receiver.port}/cb"))
    assert receiver.received == []
    assert "localhost resolves to" in error and "loopback" in error


async def test_one_private_answer_among_public_ones_blocks(
    settings: Settings, receiver: Receiver, closing: list[Services]
) -> None:
    hosts = StaticResolver({"mixed.test": ["93.184.216.34", "127.0.0.1"]})
    closing.append(svc := services(settings, allowed="", resolver=hosts))
    error = only_error(await callbacks_to(svc, f"http://mixed.test:{receiver.port}/cb"))
    assert receiver.received == []
    assert "mixed.test resolves to 127.0.0.1" in error


async def test_dns_rebinding_cannot_move_the_connection(
    settings: Settings, receiver: Receiver, closing: list[Services]
) -> None:
    # Each lookup of the name flips between 127.0.0.1 (allowed) and 127.0.0.2 (not allowed).
    # A client that checks one answer and then resolves again to connect would reach
    # 127.0.0.2 half of the time; the sender connects to the very address it checked.
    rebinding = CountingResolver("hooks.customer.test", ["127.0.0.1"], ["127.0.0.2"])
    intruder = Receiver(host="127.0.0.2", bind_port=receiver.port).start()
    try:
        closing.append(svc := services(settings, allowed="127.0.0.1/32", resolver=rebinding))
        records = await callbacks_to(svc, f"http://hooks.customer.test:{receiver.port}/cb")
    finally:
        intruder.stop()
    assert intruder.received == []
    assert rebinding.calls == 2  # one lookup per attempt, two attempts
    first, second = records
    assert first.delivery.state == "delivered"
    assert second.delivery.state == "failed"
    assert "resolves to 127.0.0.2" in (second.attempts[0].error or "")
    # The request went to the checked address but kept its name (Host header, signed URL).
    (got,) = receiver.received
    assert got.headers["host"] == f"hooks.customer.test:{receiver.port}"
    assert got.url.startswith(f"http://hooks.customer.test:{receiver.port}/cb?bodySHA256=")


async def test_redirect_to_a_private_address_is_not_followed(
    settings: Settings, closing: list[Services]
) -> None:
    inside = Receiver(host="127.0.0.2").start()
    outside = Receiver(answer=lambda _: 302, location=inside.url("/admin")).start()
    try:
        closing.append(svc := services(settings, allowed="127.0.0.1/32"))
        records = await callbacks_to(svc, outside.url())
    finally:
        inside.stop()
        outside.stop()
    assert inside.received == []
    assert len(outside.received) == 4  # 2 callbacks x (first try + one retry)
    for r in records:
        assert r.delivery.state == "failed"
        assert [a.status_code for a in r.attempts] == [302, 302]
        assert f"redirect to {inside.url('/admin')} not followed" in (r.attempts[0].error or "")
