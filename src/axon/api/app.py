"""The FastAPI application: middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from axon import __version__
from axon.api.errors import install_error_handlers
from axon.api.instrumentation import MetricsMiddleware
from axon.api.middleware import RequestContextMiddleware
from axon.api.routers import (
    admin,
    anthropic_compat,
    contexts,
    health,
    indexing,
    interactions,
    jobs,
    metrics,
    openai_compat,
    prompts,
    quality_gate,
    search,
    usage,
    workspaces,
)
from axon.api.runtime import tune_gc_for_serving
from axon.api.security import install_security
from axon.config import Settings, load_settings
from axon.mcp.http import mcp_route
from axon.services import Services, build_services
from axon.startup import StartupWork

ROUTERS = (
    health.router,
    workspaces.router,
    search.router,  # before contexts: POST /contexts/search is not a context id
    contexts.router,
    jobs.router,
    metrics.router,
    admin.router,
    quality_gate.router,
    indexing.router,
    prompts.router,
    interactions.router,
    usage.router,
    openai_compat.router,
    anthropic_compat.router,
)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. With `services` given, the caller owns their lifecycle."""
    settings = settings or (services.settings if services else load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            async with mcp_sessions:
                yield
            return
        owned = await build_services(settings)
        tune_gc_for_serving()  # this app is a server: it owns its services
        # Warm search up in the background: readiness says not-ready until it is done.
        owned.startup = StartupWork()
        owned.startup.start(owned)
        app.state.services = owned
        try:
            async with mcp_sessions:
                yield
        finally:
            await owned.close()

    app = FastAPI(
        title="Axon",
        version=__version__,
        description="Context engine for AI copilots",
        lifespan=lifespan,
    )
    if services is not None:
        # Set now as well: in-process test transports do not run the lifespan.
        app.state.services = services
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    route, mcp_sessions = mcp_route(lambda: app.state.services, settings.host)
    app.router.routes.append(route)
    install_security(app, settings)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        quiet_paths=health.PROBE_PATHS,
    )
    # Outermost, so refused and oversized requests are counted too.
    app.add_middleware(MetricsMiddleware)
    if settings.enable_heapdump:
        admin.start_heap_tracing()
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and multi-process serving: settings and logs from env."""
    from axon.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
