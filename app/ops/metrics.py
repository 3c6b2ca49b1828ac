"""`GET /metrics`: Prometheus' text format, for one process.

Two kinds of metric (README, "Operations"):
- this process's counters and histograms (app/observability/metrics.py): HTTP requests,
  GraphQL operations, REST errors, delivery attempts, carrier steps;
- gauges computed at each scrape: from the database (the shared truth, the same on every
  replica: queue backlog, oldest due age and dead items per kind, the event log's newest id
  against this process's hub), and from this process (open websockets, subscriptions, the
  connection pools, the bus listener).

Who may scrape: loopback peers only (the TCP peer address, never a forwarded header), unless
PORTICO_METRICS_TOKEN is set; then every scrape, from any address, needs
`Authorization: Bearer <token>` (compared in constant time).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from app.services import queues
from app.services.context import Services

log = logging.getLogger(__name__)
SCRAPE_TIMEOUT = 2.0  # seconds the database may take for the scrape's gauges


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def refusal(request: Request, token: str | None) -> Response | None:
    """Why this request may not scrape (a response to send), or None when it may."""
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return None
        return PlainTextResponse(
            "a Bearer token is required\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if is_loopback(request.client.host if request.client else None):
        return None
    return PlainTextResponse(
        "metrics are served to loopback only (set PORTICO_METRICS_TOKEN to scrape from "
        "elsewhere)\n",
        status_code=403,
    )


def _gauge(name: str, doc: str, values: Iterable[tuple[list[str], float]], *labels: str) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    for label_values, value in values:
        family.add_metric(label_values, value)
    return family


async def scrape_gauges(svc: Services, open_sockets: Callable[[], int]) -> list[Metric]:
    """The gauges of one scrape. Without the database (down, or slower than SCRAPE_TIMEOUT)
    the database's gauges are left out and `portico_database_up` is 0."""
    try:
        snap: queues.Snapshot | None = await asyncio.wait_for(queues.snapshot(svc), SCRAPE_TIMEOUT)
    except Exception as exc:
        log.warning("metrics: the database's gauges are missing (%s)", type(exc).__name__)
        snap = None
    hub = svc.hub
    pools = svc.db.pools()
    found = [
        _gauge(
            "portico_database_up",
            "1 when this scrape could read the database",
            [([], 1.0 if snap else 0.0)],
        ),
        _gauge(
            "portico_bus_listening",
            "1 when the bus can wake this process (on PostgreSQL: its LISTEN connection is up)",
            [([], 1.0 if svc.bus.listening else 0.0)],
        ),
        _gauge(
            "portico_websockets_open",
            "Websockets open on this process",
            [([], float(open_sockets()))],
        ),
        _gauge(
            "portico_subscriptions_active",
            "GraphQL subscriptions running on this process",
            [([], float(hub.subscriber_count))],
        ),
        _gauge(
            "portico_db_pool_connections_in_use",
            "Database connections checked out of this process's pool",
            [([name], float(used)) for name, (used, _) in pools.items()],
            "pool",
        ),
        _gauge(
            "portico_db_pool_size",
            "Connections this process's pool keeps open",
            [([name], float(size)) for name, (_, size) in pools.items()],
            "pool",
        ),
    ]
    if snap is not None:
        found += [
            _gauge(
                "portico_queue_backlog",
                "Work items due now and not done (database; the same on every replica)",
                [([q.kind], float(q.backlog)) for q in snap.queues],
                "kind",
            ),
            _gauge(
                "portico_queue_oldest_due_age_seconds",
                "How long the oldest due item has waited, 0 when none is due (database)",
                [([q.kind], q.oldest_age_seconds) for q in snap.queues],
                "kind",
            ),
            _gauge(
                "portico_queue_dead",
                "Items given up after their last attempt, kept and never retried (database)",
                [([q.kind], float(q.dead)) for q in snap.queues],
                "kind",
            ),
            _gauge(
                "portico_event_log_newest_id",
                "Id of the newest event in the log (database)",
                [([], float(snap.newest_event_id))],
            ),
            _gauge(
                "portico_event_hub_lag_events",
                "Events in the log this process's hub has not yet handed to its subscriptions "
                "(0 while it has none)",
                [([], float(max(0, snap.newest_event_id - hub.cursor)) if hub.running else 0.0)],
            ),
        ]
    return found


class _Scrape(Collector):
    """The process's registry plus this scrape's gauges, for generate_latest."""

    def __init__(self, gauges: list[Metric]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self.gauges


class MetricsEndpoint:
    def __init__(self, token: str | None, open_sockets: Callable[[], int]) -> None:
        self.token = token
        self.open_sockets = open_sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = refusal(request, self.token)
        if response is None:
            svc: Services = request.app.state.services
            gauges = await scrape_gauges(svc, self.open_sockets)
            text = generate_latest(_Scrape(gauges))
            # The classic text format (0.0.4), which every scraper reads; our names need no more.
            response = Response(text, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
        await response(scope, receive, send)
