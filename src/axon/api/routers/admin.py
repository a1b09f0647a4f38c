"""Admin endpoints (admin scope): a memory snapshot for leak hunting.

Tracing allocations slows Python down, so it only starts when
AXON_ENABLE_HEAPDUMP is set; otherwise the endpoint answers 404. The report is
made off the event loop within AXON_HEAPDUMP_TIMEOUT (see `axon.heapdump`).
"""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from axon.api.deps import ServicesDep
from axon.api.responses import errors
from axon.errors import NotFound
from axon.heapdump import heap_report

router = APIRouter(tags=["admin"])


@router.get(
    "/admin/heapdump",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **errors(404),
    },
)
async def heapdump(
    services: ServicesDep,
    top: Annotated[int, Query(ge=1, le=10_000, description="largest groups to list")] = 200,
    group_by: Annotated[
        str, Query(alias="groupBy", pattern="^(lineno|filename|traceback)$")
    ] = "lineno",
) -> PlainTextResponse:
    """tracemalloc statistics: the allocation sites holding the most memory."""
    if not services.settings.enable_heapdump or not tracemalloc.is_tracing():
        raise NotFound(
            "heap dumps are disabled; start the server with AXON_ENABLE_HEAPDUMP=true",
            code="HEAPDUMP_DISABLED",
        )
    report = await heap_report(top, group_by, services.settings.heapdump_timeout)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return PlainTextResponse(
        report, headers={"content-disposition": f'attachment; filename="heap-{stamp}.txt"'}
    )
