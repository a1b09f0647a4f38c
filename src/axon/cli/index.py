"""`axon index PATH --workspace ID [--type coding|pkm|root] [--watch] [--full]`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from axon.cli._app import app, fail, run_with_services
from axon.kinds import WorkspaceType

if TYPE_CHECKING:
    from rich.progress import TaskID

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


class _ProgressView:
    """A Rich bar on a terminal: files done of total, contexts written, rate and ETA."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from axon.cli._output import console

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files  {task.fields[contexts]} contexts  {task.fields[rate]:.0f} files/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None

    async def update(self, reports: list[IndexReport]) -> None:
        current = reports[-1]
        total = sum(r.files_total for r in reports)
        done = sum(r.files_seen for r in reports)
        contexts = sum(r.contexts_written for r in reports)
        rate = done / max(sum(r.elapsed for r in reports), 1e-6)
        if self.task is None:
            self.task = self.progress.add_task("indexing", total=total, contexts=0, rate=0.0)
        self.progress.update(
            self.task,
            description=f"indexing {current.workspace_id}",
            total=total,
            completed=done,
            contexts=contexts,
            rate=rate,
        )


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
) -> None:
    """Index a folder into a workspace (created if needed), incrementally."""
    folder = path.expanduser().resolve()
    if not folder.is_dir():
        fail(f"not a folder: {path}")
    interactive = sys.stdout.isatty()

    from axon.indexing import index_workspace

    async def run(services: Services) -> None:
        workspace = await _workspace_for(services, folder, workspace_id, kind)
        limit = services.settings.index_max_file_bytes
        view = _ProgressView() if interactive else None
        if view is not None:
            with view.progress:
                reports = await index_workspace(
                    services.store,
                    services.search_index,
                    workspace,
                    max_file_bytes=limit,
                    full=full,
                    progress=view.update,
                )
        else:
            reports = await index_workspace(
                services.store, services.search_index, workspace, max_file_bytes=limit, full=full
            )
        for report in reports:
            typer.echo(report.summary())
        if watch:
            await _watch(services, workspace, limit)

    try:
        run_with_services(run)
    except KeyboardInterrupt:  # Ctrl-C ends --watch; each file was written atomically
        typer.echo("stopped")


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
            on_run=on_run,
            stop=stop,
            ignore_roots=[str(services.settings.data_dir)],
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        stop.set()
