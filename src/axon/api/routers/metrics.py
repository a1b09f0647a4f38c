"""GET /metrics: Prometheus exposition (no auth, no rate limit; keep it off the public proxy)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from axon.api.deps import ServicesDep
from axon.metrics import JOBS, render
from axon.models import JobState

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(services: ServicesDep) -> Response:
    counts = await services.store.count_jobs()
    for state in JobState:
        JOBS.labels(str(state)).set(counts.get(state, 0))
    body, content_type = render()
    return Response(body, media_type=content_type)
