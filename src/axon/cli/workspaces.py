"""`axon workspace add|list|show|remove`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from axon.cli._app import app, run_with_services
from axon.kinds import WorkspaceType

if TYPE_CHECKING:
    from axon.services import Services

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

    from axon.cli._output import print_json
    from axon.workspaces import WorkspaceCreate, create_workspace

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
    """List workspaces: id, type, folder and name, one a line."""
    from axon.cli._text import clean, print_json

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
            if not items:
                typer.echo("no workspaces (index a folder with `axon index PATH -w ID`)")
            for w in items:
                typer.echo(f"{w.id}  {w.type}  {clean(w.path or '-')}  ({clean(w.name)})")

    run_with_services(run)


@workspace_app.command("show")
def show(workspace_id: str, as_json: JsonFlag = False) -> None:
    """Show one workspace."""
    from axon.cli._output import print_json, print_record
    from axon.workspaces import find_workspace

    async def run(services: Services) -> None:
        workspace = await find_workspace(services.store, workspace_id)
        (print_json if as_json else print_record)(workspace.dump())

    run_with_services(run)


@workspace_app.command("remove")
def remove(workspace_id: str) -> None:
    """Remove a workspace and all its contexts."""
    from axon.errors import WorkspaceNotFound
    from axon.workspaces import find_workspace

    async def run(services: Services) -> None:
        workspace = await find_workspace(services.store, workspace_id)
        if not await services.store.delete_workspace(workspace.id):
            raise WorkspaceNotFound(workspace.id, "id")  # removed meanwhile
        await services.search_index.remove_workspace(workspace.id)
        typer.echo(f"removed workspace {workspace.id}")

    run_with_services(run)
