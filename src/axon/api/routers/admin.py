"""Admin endpoints (admin scope): a memory snapshot for leak hunting.

Tracing allocations slows Python down, so it only starts when
AXON_ENABLE_HEAPDUMP is set; otherwise the endpoint answers 404.
"""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from axon.api.deps import ServicesDep
from axon.errors import NotFound

router = APIRouter(tags=["admin"])
TRACE_FRAMES = 10


def start_heap_tracing() -> None:
    if not tracemalloc.is_tracing():
        tracemalloc.start(TRACE_FRAMES)


def heap_report(top: int, group_by: str) -> str:
    snapshot = tracemalloc.take_snapshot().filter_traces(
        (
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        )
    )
    stats = snapshot.statistics(group_by)
    current, peak = tracemalloc.get_traced_memory()
    lines = [
        f"# axon heap snapshot {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"# traced: {current} bytes now, {peak} bytes peak; {len(stats)} {group_by} groups",
        "# size_bytes\tcount\tlocation",
    ]
    for stat in stats[:top]:
        frame = stat.traceback[0]
        lines.append(f"{stat.size}\t{stat.count}\t{frame.filename}:{frame.lineno}")
        if group_by == "traceback":
            lines += [f"\t\t  {f.filename}:{f.lineno}" for f in stat.traceback[1:]]
    return "\n".join(lines) + "\n"


@router.get("/admin/heapdump", response_class=PlainTextResponse)
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
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return PlainTextResponse(
        heap_report(top, group_by),
        headers={"content-disposition": f'attachment; filename="heap-{stamp}.txt"'},
    )
