"""Health, readiness and liveness probes, at / and under /api/v1.

The JSON shape is the runbook's: status, timestamp, uptime and one entry per
backend ("connected", "disconnected", or "embedded" when not configured).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from axon import __version__
from axon.api.deps import ServicesDep
from axon.embeddings import NoneEmbedder
from axon.ports import Embedder
from axon.services import Services

router = APIRouter(tags=["health"])


async def _health(services: ServicesDep) -> dict[str, Any]:
    statuses = await services.health.statuses()
    degraded = any(s == "disconnected" for s in statuses.values())
    return {
        "status": "degraded" if degraded else "ok",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "uptime": round(time.monotonic() - services.started_at, 3),
        "version": __version__,
        "services": statuses,
        "embedder": _embedder_info(services.embedder),
        "embeddings": _embedding_progress(services),
        **({"startup": services.startup.dump()} if services.startup is not None else {}),
    }


def _embedding_progress(services: Services) -> dict[str, Any]:
    """Vectors this process computed and still has to compute, over the workspaces it
    embeds (each workspace's own counts: GET /api/v1/workspaces/{id})."""
    statuses = services.search_index.progress
    return {
        "done": sum(s.done for s in statuses.values()),
        "pending": sum(s.pending for s in statuses.values()),
        "workspaces": {w: s.dump() for w, s in sorted(statuses.items()) if s.pending},
    }


def _embedder_info(embedder: Embedder) -> dict[str, Any]:
    """Which embedder serves dense search; `note` says why search is lexical-only."""
    info: dict[str, Any] = {"name": embedder.name, "dimension": embedder.dimension}
    if isinstance(embedder, NoneEmbedder) and embedder.reason:
        info["note"] = f"lexical-only search: {embedder.reason}"
    return info


async def _ready(services: ServicesDep) -> JSONResponse:
    body = await _health(services)
    failing = [name for name, s in body["services"].items() if s == "disconnected"]
    if services.startup is not None and not services.startup.ready:
        failing.append("search")  # the model and search arrays are still loading
    # The store is pinged live (not cached); name it after its backend when it has one.
    store = "mongodb" if services.settings.mongodb_uri else "store"
    if store not in failing and not await services.store.ping():
        failing.append(store)
    body["ready"] = not failing
    if failing:
        body["status"] = "unavailable"
        body["failing"] = failing
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


async def _live(services: ServicesDep) -> dict[str, Any]:
    return {"status": "ok", "uptime": round(time.monotonic() - services.started_at, 3)}


for prefix in ("", "/api/v1"):
    router.add_api_route(f"{prefix}/health", _health, methods=["GET"], summary="Health")
    router.add_api_route(f"{prefix}/health/ready", _ready, methods=["GET"], summary="Readiness")
    router.add_api_route(f"{prefix}/health/live", _live, methods=["GET"], summary="Liveness")

PROBE_PATHS = frozenset(
    f"{prefix}/health{suffix}" for prefix in ("", "/api/v1") for suffix in ("", "/ready", "/live")
)
