"""Background indexing jobs, reporting progress counts.

`scan` indexes a workspace (and a root's sub-projects) lexically, then submits an
`embed` job for the vectors, so the workspace is searchable as soon as `scan` ends and
a new scan is never refused while embeddings are still being computed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from axon.errors import Conflict, InvalidInput
from axon.folders import allowed_workspace_folder
from axon.indexing.report import IndexReport
from axon.indexing.service import index_workspace
from axon.jobs import JobContext, register_job
from axon.models import Job, JobState, Workspace
from axon.ports import EmbeddingStatus
from axon.workspaces import find_workspace

if TYPE_CHECKING:
    from axon.services import Services

SCAN_JOB = "scan"
EMBED_JOB = "embed"
_PROGRESS_EVERY = 0.5  # seconds between progress writes to the store


def totals(reports: list[IndexReport]) -> dict[str, Any]:
    """Counts over all workspaces of a run (a root indexes several)."""
    skipped: dict[str, int] = {}
    for report in reports:
        for reason, count in report.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + count
    keys = (
        "filesTotal",
        "filesSeen",
        "indexed",
        "unchanged",
        "removed",
        "contextsWritten",
        "contextsRemoved",
        "errors",
    )
    out: dict[str, Any] = {k: sum(r.counts()[k] for r in reports) for k in keys}
    out["skipped"] = dict(sorted(skipped.items()))
    out["workspaces"] = [r.counts() for r in reports]
    return out


async def scan_job(ctx: JobContext) -> dict[str, Any]:
    services = ctx.services
    workspace_id = ctx.job.workspace_id or ""
    workspace = await find_workspace(services.store, workspace_id)
    last = 0.0

    async def progress(reports: list[IndexReport]) -> None:
        nonlocal last
        if time.monotonic() - last >= _PROGRESS_EVERY:
            last = time.monotonic()
            await ctx.progress(**totals(reports))

    reports = await index_workspace(
        services.store,
        services.search_index,
        workspace,
        max_file_bytes=services.settings.index_max_file_bytes,
        full=bool(ctx.job.params.get("full", False)),
        progress=progress,
        git_max_commits=services.settings.git_max_commits,
        git_commit_contexts=services.settings.git_commit_contexts,
    )
    result = totals(reports)
    ids = [r.workspace_id for r in reports]
    statuses = [await services.search_index.embedding_status(wid) for wid in ids]
    result["embeddings"] = _summed(statuses)
    if result["embeddings"]["pending"]:
        embed = await services.jobs.submit(EMBED_JOB, {"workspaceIds": ids}, workspace_id)
        result["embedJobId"] = embed.id
    await ctx.progress(**result)
    errors = [e for r in reports for e in r.errors]
    if errors:
        ctx.job.errors += errors
        await services.store.update_job(ctx.job.id, {"errors": ctx.job.errors})
    return result


def _summed(statuses: list[EmbeddingStatus]) -> dict[str, int]:
    return EmbeddingStatus(sum(s.done for s in statuses), sum(s.pending for s in statuses)).dump()


async def embed_job(ctx: JobContext) -> dict[str, Any]:
    """Compute the vectors every listed workspace still waits for (all of them, not
    only the last scan's: what a killed run left is completed too)."""
    ids = [str(w) for w in ctx.job.params.get("workspaceIds") or [ctx.job.workspace_id]]
    statuses: dict[str, EmbeddingStatus] = {}
    last = 0.0

    async def progress(workspace_id: str, status: EmbeddingStatus) -> None:
        nonlocal last
        statuses[workspace_id] = status
        if time.monotonic() - last >= _PROGRESS_EVERY:
            last = time.monotonic()
            await ctx.progress(embeddings=_summed(list(statuses.values())))

    for workspace_id in ids:
        statuses[workspace_id] = await ctx.services.search_index.complete_embeddings(
            workspace_id, progress
        )
    result = {
        "embeddings": _summed(list(statuses.values())),
        "workspaces": {wid: s.dump() for wid, s in statuses.items()},
    }
    await ctx.progress(**result)
    return result


register_job(SCAN_JOB, scan_job)
register_job(EMBED_JOB, embed_job)


async def running_scan(services: Services, workspace_id: str) -> str | None:
    """The id of a queued or running scan of the workspace, if any."""
    for state in (JobState.QUEUED, JobState.RUNNING):
        cursor: str | None = None
        while True:
            page = await services.store.list_jobs(state, 200, cursor)
            for job in page.items:
                if job.kind == SCAN_JOB and job.workspace_id == workspace_id:
                    return job.id
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    return None


async def start_scan(services: Services, workspace: Workspace, *, full: bool = False) -> Job:
    """Submit a scan of the workspace's folder (the API's and the MCP tool's path)."""
    if not workspace.path:
        raise InvalidInput.field("path", "the workspace has no folder; set its path first")
    # Checked again: it may have been registered by the CLI, or before the roots changed.
    allowed_workspace_folder(workspace.path, services.settings)
    if not await asyncio.to_thread(Path(workspace.path).is_dir):
        raise InvalidInput.field("path", f"the workspace folder does not exist: {workspace.path}")
    running = await running_scan(services, workspace.id)
    if running is not None:
        raise Conflict(
            f"a scan of workspace '{workspace.id}' is already in progress (job {running})",
            code="SCAN_IN_PROGRESS",
            details=[{"field": "id", "message": f"job {running} is scanning this workspace"}],
        )
    return await services.jobs.submit(SCAN_JOB, {"full": full}, workspace.id)
