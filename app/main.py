"""create_app(settings): the Starlette application. Transports mount here, the operations
endpoints (/healthz, /readyz, /metrics: app/ops) beside them, all inside the middleware that
gives every request an id, a latency observation and an access line (app/observability/asgi.py).

serve(settings): run it under uvicorn, with the graceful shutdown a replica needs: on SIGTERM
(or Ctrl-C) the listening socket closes, every open websocket is closed with 1012 (service
restart: clients reconnect, through the load balancer, to another replica), open HTTP requests
get `shutdown_timeout` seconds, then the lifespan stops the worker, the scheduler and the bus
and closes the database; the process then exits with status 0.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.graphql.app import GraphQLView, graphql_routes
from app.graphql.websockets import OpenSockets
from app.graphql.wire import FrameProtocol
from app.observability import logs
from app.observability.asgi import ObserveRequests
from app.observability.metrics import VERSION
from app.ops import ops_routes
from app.rest import rest_mount
from app.runners.children import WorkerProcesses
from app.runners.scheduler import Scheduler
from app.runners.worker import DeliveryWorker
from app.services.context import Services
from app.web import routes as web_routes
from app.wiring import build_services

log = logging.getLogger(__name__)


def workers(settings: Settings) -> list[str]:
    """The background workers this server runs besides HTTP."""
    names = ["scheduler"] if settings.scheduler_enabled else []
    if settings.delivery_worker and settings.delivery_worker_processes:
        return [*names, f"delivery ({settings.delivery_worker_processes} processes)"]
    return names + (["delivery"] if settings.delivery_worker else [])


class App(Starlette):
    """Starlette inside the request observer (app/observability/asgi.py: outside Starlette's own
    error middleware, so a 500 gets its X-Request-Id too), with websockets on /graphql handed
    straight to the GraphQL view through the observer alone: thousands of idle sockets each
    keep their task's frames, and Starlette's middleware and router would be a dozen of them
    (nothing there applies to a websocket)."""

    graphql: GraphQLView | None = None
    _observed_graphql: ASGIApp | None = None

    def build_middleware_stack(self) -> ASGIApp:
        return ObserveRequests(super().build_middleware_stack(), self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "websocket"
            and self.graphql is not None
            and scope["path"] == scope.get("root_path", "") + "/graphql"
        ):
            scope["app"] = self
            if self._observed_graphql is None:
                self._observed_graphql = ObserveRequests(self.graphql, self.routes)
            await self._observed_graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, services: Services | None = None) -> App:
    settings = settings or Settings()
    svc = services or build_services(settings)
    sockets = OpenSockets()
    view = GraphQLView(settings, svc, sockets)
    scheduler = Scheduler(svc)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await svc.start()
        if settings.scheduler_enabled:
            scheduler.start()
        # notify: the delivery worker runs inside the server unless PORTICO_DELIVERY_WORKER=false
        # (or in child processes: PORTICO_DELIVERY_WORKER_PROCESSES)
        children = settings.delivery_worker_processes if settings.delivery_worker else 0
        worker = DeliveryWorker(svc, name="server") if settings.delivery_worker else None
        processes = WorkerProcesses(children, f"server-{os.getpid()}") if children else None
        if processes is not None:
            processes.start()
        elif worker is not None:
            await worker.start()
        try:
            yield
        finally:
            await sockets.close_all()  # (serve() already did; other servers may not)
            if processes is not None:
                await processes.stop()
            elif worker is not None:
                await worker.stop()
            await scheduler.stop()
            await svc.close()

    routes = [
        *ops_routes(settings, lambda: len(sockets)),
        rest_mount(),
        *graphql_routes(view),
        Mount("/loa", routes=web_routes.routes),  # notify: the LOA signing page
    ]
    from starlette.middleware import Middleware

    from app.origins import OriginGuard

    # CORS and the CSRF guard, before routing and before any body is read (app/origins.py).
    middleware = [Middleware(OriginGuard, settings=settings)]
    if settings.debug_count_sql:  # benchmarks only: X-Portico-Sql-Statements
        from app.store.counting import CountSqlMiddleware

        middleware.append(Middleware(CountSqlMiddleware))
    app = App(routes=routes, lifespan=lifespan, middleware=middleware)
    app.graphql = view
    app.state.services = svc
    app.state.settings = settings
    app.state.scheduler = scheduler
    app.state.sockets = sockets
    return app


def serve(settings: Settings) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            # The collector, tuned for fan-outs to thousands of subscribers (tests/bench): what
            # startup built (modules, the schema, ...) lives as long as the process, so it is
            # frozen out of every full collection; and the youngest generation is collected
            # after 10,000 net allocations instead of 700, so a fan-out's short-lived objects
            # die before they are promoted. Without both, full collections (200 ms each with
            # 1,000 subscribers) landed in the middle of fan-outs.
            gc.collect()
            gc.freeze()
            gc.set_threshold(10_000, 10, 10)

        async def shutdown(self, sockets: Any = None) -> None:
            for server in self.servers:
                server.close()  # accept no new connection while the open ones are closed
            closed = await app.state.sockets.close_all()
            if closed:
                log.info("closed %d websocket(s) with 1012 (service restart)", closed)
            await super().shutdown(sockets)

    logs.configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    svc: Services = app.state.services
    log.info(
        "portico %s serving on %s:%d: database %s; workers: %s; metrics: %s; log format %s",
        VERSION,
        settings.host,
        settings.port,
        svc.db.describe(),
        ", ".join(workers(settings)) or "none",
        "Bearer token" if settings.metrics_token else "loopback only",
        settings.log_format,
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # every line through logs.configure's handler (text or JSON)
        access_log=False,  # the access line is ObserveRequests' (route templates, no raw path)
        log_level=settings.log_level.lower(),
        lifespan="on",
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
        ws_ping_interval=settings.ws_keepalive_interval,
        ws_ping_timeout=settings.ws_keepalive_interval,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        ws=FrameProtocol,  # uvicorn's websockets protocol, writing shared frames (wire.py)
    )
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal under the
    # handler that was there before it started. SIGTERM is the orderly stop of a process
    # manager: with a no-op handler underneath, the process ends with status 0 instead of
    # being killed by the re-raised signal. Ctrl-C ends without a traceback.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    with contextlib.suppress(KeyboardInterrupt):
        Server(config).run()
