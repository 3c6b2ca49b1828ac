"""create_app(settings): the Starlette application. Transports mount here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from app.carrier.scheduler import Scheduler
from app.config import Settings
from app.delivery.worker import DeliveryWorker
from app.graphql.app import graphql_routes
from app.rest import rest_mount
from app.services.context import Services
from app.web import routes as web_routes

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    try:
        await svc.db.ping()
    except Exception:
        log.warning("health check: database unreachable")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    settings = settings or Settings()
    svc = services or Services.from_settings(settings)

    scheduler = Scheduler(svc)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await svc.start()
        if settings.scheduler_enabled:
            scheduler.start()
        # notify: the delivery worker runs inside the server unless PORTICO_DELIVERY_WORKER=false
        worker = DeliveryWorker(svc, name="server") if settings.delivery_worker else None
        if worker is not None:
            await worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await scheduler.stop()
            await svc.close()

    routes = [
        Route("/healthz", healthz),
        rest_mount(),
        *graphql_routes(settings, svc),
        Mount("/loa", routes=web_routes.routes),  # notify: the LOA signing page
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.services = svc
    app.state.settings = settings
    app.state.scheduler = scheduler
    return app
