"""The FastAPI application: middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from axon import __version__
from axon.api.errors import install_error_handlers
from axon.api.instrumentation import MetricsMiddleware
from axon.api.middleware import (
    ASGIApp,
    Message,
    Receive,
    RequestContextMiddleware,
    Scope,
    Send,
)
from axon.api.openapi import install_openapi
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
    symbols,
    usage,
    workspaces,
)
from axon.api.runtime import tune_gc_for_serving
from axon.api.security import SecurityHeadersMiddleware, install_security
from axon.config import Settings, load_settings
from axon.errors import AxonError
from axon.evolution.job import EvolutionTimer
from axon.heapdump import start_heap_tracing
from axon.mcp.http import mcp_route
from axon.services import Services, build_services
from axon.startup import StartupWork
from axon.ui.app import install_ui

# Routing tries the routers in this order on every request: the copilot endpoints,
# the hottest paths, come first (their /v1/ paths overlap no other router's).
ROUTERS = (
    openai_compat.router,
    anthropic_compat.router,
    health.router,
    workspaces.router,
    symbols.router,
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
        try:
            owned = await build_services(settings)
        except AxonError as exc:
            app.state.startup_error = exc.message  # logged in one line, see below
            raise
        tune_gc_for_serving()  # this app is a server: it owns its services
        # Warm search up in the background: readiness says not-ready until it is done.
        owned.startup = StartupWork()
        owned.startup.start(owned)
        # Embedded, the evolution job runs on this server's timer; production workers
        # run it from their cron.
        interval = settings.evolution_interval_seconds
        timer = EvolutionTimer(interval) if interval and not settings.redis_url else None
        if timer is not None:
            timer.start(owned)
        app.state.services = owned
        try:
            async with mcp_sessions:
                yield
        finally:
            if timer is not None:
                await timer.stop()
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
    install_ui(app)  # the dashboard at / and /ui/..., after the API's routes
    install_security(app, settings)
    install_openapi(app, settings)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        quiet_paths=health.PROBE_PATHS,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost, so refused and oversized requests are counted too.
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(BriefStartupErrors)
    if settings.enable_heapdump:
        start_heap_tracing()
    return app


class BriefStartupErrors:
    """A known start-up failure (an unreachable backend, say) is one log line, as
    `axon worker` prints it, instead of the lifespan's traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_brief(message: Message) -> None:
            error = getattr(scope["app"].state, "startup_error", None)
            if message["type"] == "lifespan.startup.failed" and error:
                message = {**message, "message": f"cannot start: {error}"}
            await send(message)

        await self.app(scope, receive, send_brief)


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and multi-process serving: settings and logs from env."""
    from axon.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
