"""The app factory: settings → services → FastAPI app with routes and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from lamina._version import __version__
from lamina.server import (
    routes_batch,
    routes_classic,
    routes_classic_extract,
    routes_classify,
    routes_configurations,
    routes_directories,
    routes_downloads,
    routes_extract,
    routes_files,
    routes_parse,
)
from lamina.server.errors import install_error_handlers
from lamina.server.gate import PUBLIC_PATHS, RequestGate
from lamina.server.limits import MULTIPART_SLACK, BodySizeLimit
from lamina.server.links import DOWNLOADS
from lamina.server.openapi import document_gate
from lamina.services.container import Services
from lamina.services.settings import ServerSettings


def create_app(
    settings: ServerSettings | None = None, *, services: Services | None = None
) -> FastAPI:
    """Build the Lamina API app for ``settings`` (default: :meth:`ServerSettings.from_env`).

    The data dir and database schema are set up here; the lifespan starts the job workers and
    stops them on shutdown (so an app used without its lifespan serves requests but runs no
    jobs). Given ``services`` already open (the embedded server's), the app serves those and
    its lifespan leaves starting and stopping them to their owner.
    """
    owned = services is None
    if services is None:
        settings = settings or ServerSettings.from_env()
        services = Services.open(settings, downloads=DOWNLOADS)
    settings = services.settings
    opened = services

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owned:
            await run_in_threadpool(opened.start)
        try:
            yield
        finally:
            if owned:
                await run_in_threadpool(opened.stop)

    app = FastAPI(
        title="Lamina",
        version=__version__,
        description="LlamaCloud-compatible Parse v2, Extract v2 and Files API.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_upload_bytes + MULTIPART_SLACK,
        max_other_bytes=settings.max_json_body_bytes,
        body_timeout=settings.body_timeout_seconds,
    )
    app.add_middleware(RequestGate, services=services)  # outermost: before any body is read
    app.include_router(routes_downloads.router)  # before parse: its paths are more specific
    app.include_router(routes_files.router)
    app.include_router(routes_parse.router)
    app.include_router(routes_extract.router)
    app.include_router(routes_directories.router)
    app.include_router(routes_batch.router)
    app.include_router(routes_batch.router_v2)
    app.include_router(routes_classic.router)
    app.include_router(routes_classic_extract.router)
    app.include_router(routes_classify.router)
    app.include_router(routes_configurations.router)

    document_gate(app, PUBLIC_PATHS)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    if settings.metrics:

        @app.get("/metrics", tags=["health"], include_in_schema=False)
        def metrics() -> Response:
            """Prometheus metrics (queue depth, jobs by status, durations, workers)."""
            from lamina.services.runtime.distributed.metrics import render

            local = None if settings.broker_url else settings.workers
            body, content_type = render(services.db, local_workers=local)
            return Response(body, media_type=content_type)

    @app.get("/ready", tags=["health"])
    def ready() -> JSONResponse:
        """Readiness: the database answers and, on an API replica, the broker is reachable
        (503 otherwise, so a load balancer sends traffic elsewhere)."""
        checks = services.readiness()
        return JSONResponse(
            {"status": "ready" if all(checks.values()) else "not ready", "checks": checks},
            status_code=200 if all(checks.values()) else 503,
        )

    return app
