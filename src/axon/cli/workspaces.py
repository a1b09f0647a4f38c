"""`axon workspace add|list|show|remove`."""

from __future__ import annotations

from typing import Annotated

import typer

from axon.cli._app import app, run_with_services
from axon.cli._output import print_json, print_record, print_table
from axon.errors import NotFound
from axon.models import WorkspaceType
from axon.services import Services
from axon.workspaces import WorkspaceCreate, create_workspace

workspace_app = typer.Typer(help="Manage workspaces.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


@workspace_app.command("add")
def add(
    path: Annotated[str, typer.Argument(help="folder of the workspace")],
    name: Annotated[str | None, typer.Option(help="display name (default: folder name)")] = None,
    workspace_id: Annotated[str | None, typer.Option("--id", help="workspace id")] = None,
    type: Annotated[WorkspaceType, typer.Option("--type")] = WorkspaceType.CODING,
    as_json: JsonFlag = False,
) -> None:
    """Register a workspace."""
    from pathlib import Path

    folder = Path(path).expanduser().resolve()

    async def run(services: Services) -> None:
        data = WorkspaceCreate(
            id=workspace_id, name=name or folder.name, type=type, path=str(folder)
        )
        workspace = await create_workspace(services.store, data)
        if as_json:
            print_json(workspace.dump())
        else:
            typer.echo(f"added workspace {workspace.id} ({workspace.type}) at {workspace.path}")

    run_with_services(run)


@workspace_app.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """List workspaces."""

    async def run(services: Services) -> None:
        items = []
        cursor: str | None = None
        while True:
            page = await services.store.list_workspaces(200, cursor)
            items += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        if as_json:
            print_json([w.dump() for w in items])
        else:
            print_table(
                "Workspaces",
                ["id", "name", "type", "path"],
                [(w.id, w.name, w.type, w.path) for w in items],
            )

    run_with_services(run)


@workspace_app.command("show")
def show(workspace_id: str, as_json: JsonFlag = False) -> None:
    """Show one workspace."""

    async def run(services: Services) -> None:
        workspace = await services.store.get_workspace(workspace_id)
        if workspace is None:
            raise NotFound(f"workspace '{workspace_id}' not found")
        (print_json if as_json else print_record)(workspace.dump())

    run_with_services(run)


@workspace_app.command("remove")
def remove(workspace_id: str) -> None:
    """Remove a workspace and all its contexts."""

    async def run(services: Services) -> None:
        if not await services.store.delete_workspace(workspace_id):
            raise NotFound(f"workspace '{workspace_id}' not found")
        await services.search_index.remove_workspace(workspace_id)
        typer.echo(f"removed workspace {workspace_id}")

    run_with_services(run)
