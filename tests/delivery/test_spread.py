"""How the delivery worker spreads its sends: bounded overall and per receiver host, one
order's deliveries to one target in order, and a slow host keeps only its own slots busy."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.adapters.http import PinnedHttpSender
from app.adapters.ssrf import StaticResolver
from app.runners.worker import DeliveryWorker, host_of
from app.services import port_orders
from app.services.context import Services
from tests.builders import order_input, tenant
from tests.delivery.conftest import pending_count
from tests.delivery.receiver import Received, Receiver


@dataclass
class Gauge:
    """Answers after `delay` seconds, counting the requests in flight at once."""

    delay: float
    now: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, _request: Received) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return 200


@dataclass
class Tagged:
    """Notes the receiver's name in `arrivals` on every request, then answers as `inner`."""

    name: str
    arrivals: list[str]
    inner: Callable[[Received], int]

    def __call__(self, request: Received) -> int:
        self.arrivals.append(self.name)
        return self.inner(request)


def test_host_of_names_the_receiver_and_the_start_of_its_urls() -> None:
    assert host_of("callback", "https://Hooks.Example.com:8443/a?b=1") == (
        "http://hooks.example.com",
        "https://Hooks.Example.com:8443",
    )
    assert host_of("callback", "http://hooks.example.com/x") == (
        "http://hooks.example.com",
        "http://hooks.example.com",
    )
    assert host_of("email", "someone@example.com") == ("mail", "")
    assert host_of("callback", "http://[::1/broken") == ("", "")


async def test_a_slow_host_gets_at_most_its_share_and_holds_up_no_one_else(
    nsvc: Services,
) -> None:
    slow_gauge = Gauge(delay=0.25)
    slow = Receiver(answer=slow_gauge).start()
    fast = Receiver().start()
    hosts = StaticResolver({"slow.test": ["127.0.0.1"], "fast.test": ["127.0.0.1"]})
    nsvc.http_sender = PinnedHttpSender(
        allowed=nsvc.settings.allowed_networks, resolver=hosts, timeout=5
    )
    arrivals: list[str] = []
    slow.answer = Tagged("slow", arrivals, slow.answer)
    fast.answer = Tagged("fast", arrivals, fast.answer)
    worker = DeliveryWorker(nsvc, name="spread", concurrency=8, per_host=2)
    try:
        who = await tenant(nsvc)
        # The slow host's orders first: they are due first and claimed first.
        for i in range(6):
            url = f"http://slow.test:{slow.port}/hooks/{i}"
            await port_orders.create_port_order(nsvc, who.caller, order_input(status_callback=url))
        for i in range(3):
            url = f"http://fast.test:{fast.port}/hooks/{i}"
            await port_orders.create_port_order(nsvc, who.caller, order_input(status_callback=url))
        await worker.start()
        async with asyncio.timeout(30):
            while await pending_count(nsvc):  # noqa: ASYNC110 -- the state is in the database
                await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        slow.stop()
        fast.stop()
    assert len(slow.received) == 12 and len(fast.received) == 6
    assert slow_gauge.most == 2  # never more than its two slots, and it had both
    # The fast host's six arrived while the slow one was still on its first few of twelve.
    assert arrivals.index("fast") < arrivals.index("slow") + 6
    last_fast = max(i for i, name in enumerate(arrivals) if name == "fast")
    assert arrivals[: last_fast + 1].count("slow") <= 6, arrivals
    # Each order's callbacks arrived in order, one after the other.
    for receiver in (slow, fast):
        by_path: dict[str, list[str]] = {}
        for got in receiver.received:
            by_path.setdefault(got.url.split("?")[0], []).append(json.loads(got.body)["status"])
        assert all(statuses == ["CREATED", "PENDING"] for statuses in by_path.values())
