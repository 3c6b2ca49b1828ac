"""The counters and histograms this process updates (Prometheus, the default registry).

They are per process: each `portico serve` is its own scrape target, and a query sums them
across replicas (`sum by (route) (rate(...))`). The gauges of the shared truth (the queues, the
dead items, the event log) are read from the database at scrape time (app/ops/metrics.py), so
every replica reports the same values for them.

Labels are bounded: routes are templates (`/porting/PortOrders/{sid}`), methods and operation
types come from small fixed sets, GraphQL operation names are the client's only when they look
like names and only for the first MAX_OPERATION_NAMES distinct ones (else "other"), and no
label ever holds a SID, a number or an email address.
"""

from __future__ import annotations

import re
import threading
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # no `_created` series: scrapes stay half the size

MAX_OPERATION_NAMES = 100
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_seen_names: set[str] = set()
_names_lock = threading.Lock()
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

COST_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000)


def _version() -> str:
    try:
        return version("portico")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


VERSION = _version()
BUILD_INFO = Gauge("portico_build_info", "Always 1; the version of this process", ["version"])
BUILD_INFO.labels(VERSION).set(1)
HTTP_REQUESTS = Histogram(
    "portico_http_request_duration_seconds",
    "HTTP requests by method, route template and status, and how long they took",
    ["method", "route", "status"],
)
GRAPHQL_OPERATIONS = Histogram(
    "portico_graphql_operation_duration_seconds",
    "GraphQL queries and mutations (HTTP and websocket) by operation name, type and outcome "
    "(ok, invalid, unauthorized, error), from parsing to the result",
    ["operation", "type", "outcome"],
)
GRAPHQL_COST = Histogram(
    "portico_graphql_operation_cost",
    "Estimated cost of each executed GraphQL query or mutation: the fields it can resolve, "
    "each connection's page size (first/last) multiplying the fields beneath it",
    ["operation", "type"],
    buckets=COST_BUCKETS,
)
REST_ERRORS = Counter(
    "portico_rest_errors", "REST error responses by error code and HTTP status", ["code", "status"]
)
DELIVERY_ATTEMPTS = Counter(
    "portico_delivery_attempts",
    "Delivery attempts made by this process, by channel (callback, email) and outcome "
    "(delivered; retry: due again later; dead: given up)",
    ["channel", "outcome"],
)
CARRIER_STEPS = Counter(
    "portico_carrier_steps",
    "Carrier steps run by this process's scheduler, by outcome (done, retry, failed, lost)",
    ["outcome"],
)

for _channel in ("callback", "email"):
    for _outcome in ("delivered", "retry", "dead"):
        DELIVERY_ATTEMPTS.labels(_channel, _outcome)
for _outcome in ("done", "retry", "failed", "lost"):
    CARRIER_STEPS.labels(_outcome)


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def safe_operation_name(name: str | None) -> str:
    """The operation name when it looks like one ("anonymous" without one, else "other");
    for log lines, which need no cardinality bound."""
    if not name:
        return "anonymous"
    return name if _OPERATION_NAME.fullmatch(name) else "other"


def operation_label(name: str | None) -> str:
    """`safe_operation_name`, and only the first MAX_OPERATION_NAMES distinct names: a client
    inventing names cannot grow the metrics without bound."""
    label = safe_operation_name(name)
    if label in ("anonymous", "other") or label in _seen_names:
        return label
    with _names_lock:
        if len(_seen_names) < MAX_OPERATION_NAMES:
            _seen_names.add(label)
            return label
    return "other"
