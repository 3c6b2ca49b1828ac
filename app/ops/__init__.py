"""The operations endpoints: `/healthz` (liveness), `/readyz` (readiness) and `/metrics`
(Prometheus), next to the transports. `app.main` mounts them."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute, Route

from app.config import Settings
from app.ops.metrics import MetricsEndpoint
from app.ops.probes import healthz, readyz


def ops_routes(settings: Settings, open_sockets: Callable[[], int]) -> list[BaseRoute]:
    """`open_sockets` counts this process's websockets (the GraphQL transport knows them)."""
    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", MetricsEndpoint(settings.metrics_token, open_sockets), methods=["GET"]),
    ]
