"""Health, readiness and liveness probes, at / and under /api/v1.

The JSON shape is the runbook's: status, timestamp, uptime and one entry per
backend ("connected", "disconnected", or "embedded" when not configured).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from axon import __version__
from axon.api.deps import ServicesDep
from axon.api.responses import EmbeddingCounts
from axon.embeddings import NoneEmbedder
from axon.ports import Embedder
from axon.services import Services, ServiceStatus

router = APIRouter(tags=["health"])


class EmbedderInfo(BaseModel):
    name: str
    dimension: int
    note: str | None = Field(default=None, description="why search is lexical-only, if it is")


class EmbeddingProgress(BaseModel):
    done: int = Field(description="vectors this process computed")
    pending: int = Field(description="vectors it still has to compute")
    workspaces: dict[str, EmbeddingCounts] = Field(description="workspaces with pending vectors")


class StartupInfo(BaseModel):
    state: Literal["warming", "ready", "failed"]
    seconds: float | None = Field(description="how long the warm-up took")
    error: str | None = Field(default=None, description="why the warm-up failed")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    timestamp: str = Field(description="ISO-8601 UTC, milliseconds")
    uptime: float = Field(description="seconds since the process started")
    version: str
    services: dict[str, ServiceStatus]
    embedder: EmbedderInfo
    embeddings: EmbeddingProgress
    startup: StartupInfo | None = Field(
        default=None, description="the start-up warm-up (model and search arrays), if any"
    )


class Readiness(Health):
    status: Literal["ok", "degraded", "unavailable"]  # type: ignore[assignment]
    ready: bool
    failing: list[str] | None = Field(default=None, description="present when not ready")


class Liveness(BaseModel):
    status: Literal["ok"]
    uptime: float


async def _health(services: ServicesDep) -> Health:
    statuses = await services.health.statuses()
    degraded = any(s == "disconnected" for s in statuses.values())
    startup = services.startup
    return Health(
        status="degraded" if degraded else "ok",
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        uptime=round(time.monotonic() - services.started_at, 3),
        version=__version__,
        services=statuses,
        embedder=_embedder_info(services.embedder),
        embeddings=_embedding_progress(services),
        startup=None
        if startup is None
        else StartupInfo(state=startup.state, seconds=startup.seconds, error=startup.error),
    )


def _embedding_progress(services: Services) -> EmbeddingProgress:
    """Vectors this process computed and still has to compute, over the workspaces it
    embeds (each workspace's own counts: GET /api/v1/workspaces/{id})."""
    statuses = services.search_index.progress
    return EmbeddingProgress(
        done=sum(s.done for s in statuses.values()),
        pending=sum(s.pending for s in statuses.values()),
        workspaces={w: EmbeddingCounts.of(s) for w, s in sorted(statuses.items()) if s.pending},
    )


def _embedder_info(embedder: Embedder) -> EmbedderInfo:
    """Which embedder serves dense search; `note` says why search is lexical-only."""
    note = None
    if isinstance(embedder, NoneEmbedder) and embedder.reason:
        note = f"lexical-only search: {embedder.reason}"
    return EmbedderInfo(name=embedder.name, dimension=embedder.dimension, note=note)


async def _ready(services: ServicesDep) -> JSONResponse:
    ready = await readiness(services)
    return JSONResponse(_probe_json(ready), 200 if ready.ready else 503)


async def readiness_report(services: Services) -> dict[str, Any]:
    """The body of /health/ready (the dashboard's overview shows the same)."""
    return _probe_json(await readiness(services))


async def readiness(services: Services) -> Readiness:
    health = await _health(services)
    failing = [name for name, s in health.services.items() if s == "disconnected"]
    if services.startup is not None and not services.startup.ready:
        failing.append("search")  # the model and search arrays are still loading
    # The store is pinged live (not cached); name it after its backend when it has one.
    store = "mongodb" if services.settings.mongodb_uri else "store"
    if store not in failing and not await services.store.ping():
        failing.append(store)
    ready = Readiness(**dict(health), ready=not failing)
    if failing:
        ready.status = "unavailable"
        ready.failing = failing
    return ready


def _probe_json(body: Health) -> dict[str, Any]:
    """Optional parts absent rather than null (the runbook's shape); `seconds` stays."""
    out = body.model_dump(mode="json", exclude_none=True)
    if body.startup is not None:
        out["startup"]["seconds"] = body.startup.seconds
    return out


async def _health_route(services: ServicesDep) -> JSONResponse:
    return JSONResponse(_probe_json(await _health(services)))


async def _live(services: ServicesDep) -> Liveness:
    return Liveness(status="ok", uptime=round(time.monotonic() - services.started_at, 3))


_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Readiness,
        "description": "A backend is down or search is warming; `failing` names it",
    }
}

for prefix in ("", "/api/v1"):
    router.add_api_route(
        f"{prefix}/health",
        _health_route,
        methods=["GET"],
        summary="Health",
        response_model=Health,
    )
    router.add_api_route(
        f"{prefix}/health/ready",
        _ready,
        methods=["GET"],
        summary="Readiness",
        response_model=Readiness,
        responses=_NOT_READY,
    )
    router.add_api_route(f"{prefix}/health/live", _live, methods=["GET"], summary="Liveness")

PROBE_PATHS = frozenset(
    f"{prefix}/health{suffix}" for prefix in ("", "/api/v1") for suffix in ("", "/ready", "/live")
)
