"""Start-up work of a server: warm search up, then finish what a stopped run left.

Loading the embedding model and a workspace's search arrays takes seconds; left to
the first request, it made that request's retrieval time out and answer with no
context. `axon serve` runs `StartupWork` in the background instead: a real search
per workspace loads the model, runs its first inference and maps every array the
searches use, and readiness (`/health/ready`) answers 503 naming `search` until it
is done. Then, when this process runs the jobs itself (no REDIS_URL), it submits an
`embed` job for each workspace that still has contexts waiting for their vectors
(an `axon index --no-wait-embeddings`, or a killed run).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from axon.ports import SearchRequest

if TYPE_CHECKING:
    from axon.services import Services

log = logging.getLogger("axon.startup")

# A query with words, a symbol and a file name: it exercises every part of a search.
WARM_QUERY = "where is load_config defined in settings.py"


async def warm_search(services: Services, workspace_ids: Sequence[str]) -> None:
    """Load the model (one embedding) and every array a search of these workspaces reads."""
    if services.embedder.dimension > 0:
        await services.embedder.embed([WARM_QUERY])
    for workspace_id in workspace_ids:
        await services.retriever.search(
            SearchRequest(query=WARM_QUERY, workspace_id=workspace_id, limit=1)
        )


@dataclass
class StartupWork:
    state: Literal["warming", "ready", "failed"] = "warming"
    seconds: float | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def ready(self) -> bool:
        # A failed warm-up does not keep the server out of rotation: the first searches
        # pay the cost instead (and report their failure themselves).
        return self.state != "warming"

    def dump(self) -> dict[str, object]:
        out: dict[str, object] = {"state": self.state, "seconds": self.seconds}
        if self.error:
            out["error"] = self.error
        return out

    def start(self, services: Services) -> None:
        self.task = asyncio.create_task(self._run(services), name="axon-startup")

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self, services: Services) -> None:
        from axon.indexing import EMBED_JOB
        from axon.workspaces import all_workspaces

        started = time.perf_counter()
        try:
            ids = [w.id for w in await all_workspaces(services.store)]
            await warm_search(services, ids)
            self.state = "ready"
        except Exception as exc:
            log.warning("warming search up failed: %s", exc)
            self.state, self.error = "failed", str(exc) or type(exc).__name__
            return
        finally:
            self.seconds = round(time.perf_counter() - started, 3)
        log.info("search warm in %.2fs (%d workspaces)", self.seconds, len(ids))
        if services.settings.redis_url:
            return  # the workers run jobs; each scan's embed job covers its workspace
        for workspace_id in ids:
            status = await services.search_index.embedding_status(workspace_id)
            if status.pending:
                log.info("%s: %d contexts wait for their vectors", workspace_id, status.pending)
                await services.jobs.submit(
                    EMBED_JOB, {"workspaceIds": [workspace_id]}, workspace_id
                )
