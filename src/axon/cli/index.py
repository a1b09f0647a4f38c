"""`axon index PATH --workspace ID [--type coding|pkm|root] [--watch] [--full]
[--wait-embeddings/--no-wait-embeddings]`."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from axon.cli._app import app, fail, run_with_services
from axon.kinds import WorkspaceType

if TYPE_CHECKING:
    from axon.cli._progress import IndexProgress
    from axon.indexing import IndexReport
    from axon.models import Workspace
    from axon.services import Services


async def _workspace_for(
    services: Services, folder: Path, workspace_id: str, kind: WorkspaceType | None
) -> Workspace:
    """The registered workspace, or a new one for `folder`; refuses a mismatch."""
    from axon.errors import InvalidInput
    from axon.workspaces import WorkspaceCreate, create_workspace

    workspace = await services.store.get_workspace(workspace_id)
    if workspace is None:
        data = WorkspaceCreate(
            id=workspace_id,
            name=folder.name or str(folder),
            type=kind or WorkspaceType.CODING,
            path=str(folder),
        )
        return await create_workspace(services.store, data)
    if workspace.path != str(folder):
        raise InvalidInput.field(
            "path", f"workspace '{workspace_id}' is registered for {workspace.path}, not {folder}"
        )
    if kind is not None and workspace.type != kind:
        raise InvalidInput.field(
            "type", f"workspace '{workspace_id}' is of type {workspace.type}, not {kind}"
        )
    return workspace


@app.command("index")
def index(
    path: Annotated[Path, typer.Argument(help="folder to index")],
    workspace_id: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    kind: Annotated[
        WorkspaceType | None,
        typer.Option("--type", help="coding, pkm or root (default coding for a new workspace)"),
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="keep indexing as files change")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="re-read every file and reconcile the search index")
    ] = False,
    wait_embeddings: Annotated[
        bool | None,
        typer.Option(
            "--wait-embeddings/--no-wait-embeddings",
            help="compute the vectors before returning (default: only when no worker will, "
            "i.e. without REDIS_URL)",
        ),
    ] = None,
    progress_interval: Annotated[
        float,
        typer.Option(min=0.01, help="seconds between progress lines when not on a terminal"),
    ] = 5.0,
) -> None:
    """Index a folder into a workspace (created if needed), incrementally.

    Files are searchable lexically as soon as they are indexed; their vectors follow.
    """
    folder = path.expanduser().resolve()
    if not folder.is_dir():
        fail(f"not a folder: {path}")
    interactive = sys.stdout.isatty()

    from axon.cli._progress import IndexProgress
    from axon.indexing import index_workspace

    async def run(services: Services) -> None:
        typer.echo(services.settings.store_location, err=True)  # where the index goes
        workspace = await _workspace_for(services, folder, workspace_id, kind)
        limit = services.settings.index_max_file_bytes
        async with IndexProgress(interactive, progress_interval) as view:
            reports = await index_workspace(
                services.store,
                services.search_index,
                workspace,
                max_file_bytes=limit,
                full=full,
                progress=view.files,
                git_max_commits=services.settings.git_max_commits,
                git_commit_contexts=services.settings.git_commit_contexts,
            )
        for report in reports:
            typer.echo(report.summary())
        wait = wait_embeddings if wait_embeddings is not None else not services.settings.redis_url
        await _embeddings(services, [r.workspace_id for r in reports], wait, view)
        if watch:
            await _watch(services, workspace, limit)

    try:
        run_with_services(run)
    except KeyboardInterrupt:  # Ctrl-C ends --watch; each file was written atomically
        typer.echo("stopped")


async def _embeddings(
    services: Services, workspace_ids: list[str], wait: bool, view: IndexProgress
) -> None:
    """Compute the vectors the run left waiting, hand them to the worker, or say who will."""
    from axon.cli._progress import IndexProgress
    from axon.indexing import EMBED_JOB

    index = services.search_index
    pending = sum([(await index.embedding_status(w)).pending for w in workspace_ids])
    if not pending:
        return
    if wait:
        started = time.monotonic()
        async with IndexProgress(view.interactive, view.interval) as embedding_view:
            statuses = [
                await index.complete_embeddings(w, embedding_view.embeddings) for w in workspace_ids
            ]
        done = sum(s.done for s in statuses)
        left = sum(s.pending for s in statuses)
        typer.echo(
            f"embeddings: {done} contexts have their vectors ({pending} computed in "
            f"{time.monotonic() - started:.1f}s)"
            + (f"; {left} wait for a consistent store (run `axon index` again)" if left else "")
        )
        return
    typer.echo(f"searchable now (lexically); {pending} contexts wait for their vectors")
    if services.settings.redis_url:
        job = await services.jobs.submit(
            EMBED_JOB, {"workspaceIds": workspace_ids}, workspace_ids[-1]
        )
        typer.echo(f"a worker computes them: job {job.id} (GET /api/v1/jobs/{job.id})")
    else:
        typer.echo(
            "the next `axon serve` or `axon index` computes them "
            "(or run `axon index --wait-embeddings` now)"
        )


async def _watch(services: Services, workspace: Workspace, limit: int) -> None:
    import asyncio

    from axon.indexing.watcher import watch_workspace

    stop = asyncio.Event()

    async def on_run(reports: list[IndexReport], changes: int) -> None:
        for report in reports:
            if report.indexed or report.removed:
                typer.echo(f"{changes} change(s): {report.summary()}")

    typer.echo(f"watching {workspace.path} (Ctrl-C to stop)")
    try:
        await watch_workspace(
            services.store,
            services.search_index,
            workspace,
            max_file_bytes=limit,
            git_max_commits=services.settings.git_max_commits,
            git_commit_contexts=services.settings.git_commit_contexts,
            on_run=on_run,
            stop=stop,
            ignore_roots=[str(services.settings.data_dir)],
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        stop.set()
