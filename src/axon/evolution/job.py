"""The scheduled evolution job: consolidation, supersede repair and decay figures.

Kind `evolution`, params `{"workspaceIds": [...]}` (absent: every workspace). Each
step is idempotent, so overlapping or repeated runs do no harm:

- consolidation merges near-duplicate memories (`Consolidator.run`);
- staleness marks memories whose linked code changed (`evolution.links`), as indexing
  does after each run;
- promotion makes conventions found in several workspaces global (`evolution.promote`,
  across every workspace whatever `workspaceIds` says);
- supersede repair closes contexts a newer one lists in `supersedes` but that are
  still open (a crash between storing the new one and closing the old);
- decay is computed at ranking time; the job only counts memories whose salience fell
  below one half (`axon_evolution_faded`), deleting nothing.

Embedded, `EvolutionTimer` submits it every `AXON_EVOLUTION_INTERVAL_SECONDS` on the
server's in-process queue; in production `axon worker` runs it from an arq cron.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from axon import metrics
from axon.evolution import decay
from axon.evolution.consolidate import Consolidator
from axon.evolution.links import mark_stale
from axon.evolution.supersede import Supersession
from axon.jobs import JobContext, register_job
from axon.models import ContextType, utcnow
from axon.ports import ContextFilter, DocumentStore, SearchIndex

if TYPE_CHECKING:
    from axon.services import Services

log = logging.getLogger("axon.evolution")
EVOLUTION_JOB = "evolution"
MEMORY_KINDS = (
    ContextType.DECISION,
    ContextType.PATTERN,
    ContextType.NOTE,
    ContextType.CONVERSATION,
)


async def repair_supersedes(
    store: DocumentStore, supersession: Supersession, workspace_id: str
) -> int:
    """Close what current contexts say they superseded but is still open."""
    repaired = 0
    async for context in store.iter_contexts(ContextFilter(workspace_id=workspace_id)):
        if not context.supersedes or not context.current:
            continue
        olds = [o for o in await store.get_contexts(context.supersedes) if o.current]
        repaired += len(await supersession.close(olds, context))
    return repaired


async def count_faded(
    store: DocumentStore, workspace_id: str, half_lives: dict[ContextType, float]
) -> int:
    now = utcnow()
    faded = 0
    async for context in store.iter_contexts(
        ContextFilter(workspace_id=workspace_id, types=list(MEMORY_KINDS))
    ):
        if decay.decays(context) and decay.salience(context, now, half_lives) < 0.5:
            faded += 1
    return faded


async def evolve(
    store: DocumentStore,
    search_index: SearchIndex,
    consolidator: Consolidator,
    supersession: Supersession,
    half_lives: dict[ContextType, float],
    workspace_ids: list[str],
) -> dict[str, int]:
    totals = {"workspaces": 0, "merged": 0, "repaired": 0, "stale": 0, "faded": 0}
    for workspace_id in workspace_ids:
        totals["stale"] += await mark_stale(store, search_index, workspace_id)
        merges = await consolidator.run(workspace_id)
        totals["merged"] += sum(len(m.merged) for m in merges)
        totals["repaired"] += await repair_supersedes(store, supersession, workspace_id)
        totals["faded"] += await count_faded(store, workspace_id, half_lives)
        totals["workspaces"] += 1
    return totals


async def evolution_job(ctx: JobContext) -> dict[str, Any]:
    from axon.retrieval.ranking import RankingWeights
    from axon.workspaces import all_workspaces

    services = ctx.services
    started = time.perf_counter()
    wanted = ctx.job.params.get("workspaceIds")
    ids = list(wanted) if wanted else [w.id for w in await all_workspaces(services.store)]
    half_lives = RankingWeights.from_settings(services.settings).decay_half_lives
    try:
        promotion = await services.promoter.run()
        totals = await evolve(
            services.store,
            services.search_index,
            services.consolidator,
            services.supersession,
            half_lives,
            ids,
        )
    except Exception:
        metrics.EVOLUTION_RUNS.labels(outcome="error").inc()
        raise
    finally:
        metrics.EVOLUTION_DURATION.observe(time.perf_counter() - started)
    totals.update(promotion)
    metrics.EVOLUTION_RUNS.labels(outcome="ok").inc()
    metrics.EVOLUTION_PROMOTED.inc(promotion["promoted"])
    metrics.EVOLUTION_MERGED.inc(totals["merged"])
    metrics.EVOLUTION_REPAIRED.inc(totals["repaired"])
    metrics.EVOLUTION_STALE.inc(totals["stale"])
    metrics.EVOLUTION_FADED.set(totals["faded"])
    log.info("evolution: %s", totals)
    return totals


register_job(EVOLUTION_JOB, evolution_job)


class EvolutionTimer:
    """Embedded mode's schedule: submit the job every `interval` seconds, one at a time."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.task: asyncio.Task[None] | None = None

    def start(self, services: Services) -> None:
        self.task = asyncio.create_task(self._loop(services), name="axon-evolution")

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _loop(self, services: Services) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                job = await services.jobs.submit(EVOLUTION_JOB, {})
                await services.jobs.wait(job.id, self.interval)
            except Exception as exc:  # the next tick tries again
                log.warning("scheduling the evolution job failed: %s", exc)
