"""`axon context add|list|show|remove`.

`axon context PROMPT ...` (no sub-command name) is routed to the `build`
command, which the pipeline registers, so both spellings read naturally.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from axon.cli._app import app, run_with_services
from axon.kinds import ContextType, Tier

if TYPE_CHECKING:
    from axon.services import Services

DEFAULT_SUBCOMMAND = "build"


class _ContextGroup(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = [DEFAULT_SUBCOMMAND, *args]
        return super().parse_args(ctx, args)


context_app = typer.Typer(help="Manage contexts.", no_args_is_help=True, cls=_ContextGroup)
app.add_typer(context_app, name="context")

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


@context_app.command("add")
def add(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    type: Annotated[ContextType, typer.Option("--type")] = ContextType.DECISION,
    content: Annotated[str, typer.Option(help="text, or - to read stdin")] = "-",
    title: Annotated[str | None, typer.Option()] = None,
    tier: Annotated[Tier, typer.Option()] = Tier.WORKSPACE,
    supersedes: Annotated[
        list[str] | None, typer.Option("--supersedes", help="id of a context this replaces")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="what a decision is about")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a context by hand: a decision, a convention, a note."""
    from axon.cli._output import print_json
    from axon.workspaces import ContextCreate, add_context

    text = sys.stdin.read() if content == "-" else content

    async def run(services: Services) -> None:
        data = ContextCreate(
            workspace_id=workspace,
            type=type,
            content=text,
            title=title,
            tier=tier,
            subject=subject,
            supersedes=supersedes or [],
        )
        context = await add_context(
            services.store, data, services.search_index, supersession=services.supersession
        )
        if as_json:
            print_json(context.dump())
        else:
            typer.echo(f"added context {context.id}")
            for old in context.supersedes:
                typer.echo(f"superseded {old}")

    run_with_services(run)


@context_app.command("list")
def list_(
    workspace: Annotated[str | None, typer.Option("--workspace", "-w")] = None,
    tier: Annotated[Tier | None, typer.Option()] = None,
    type: Annotated[ContextType | None, typer.Option("--type")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List contexts: id, workspace, tier/type, then location and size."""
    from axon.cli._text import clean, location, print_json
    from axon.ports import ContextFilter

    flt = ContextFilter(
        workspace_id=workspace, tiers=[tier] if tier else None, types=[type] if type else None
    )

    async def run(services: Services) -> None:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(items) < limit:
            page = await services.store.list_contexts(flt, min(200, limit - len(items)), cursor)
            items += [c.dump() for c in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        if as_json:
            print_json(items)
        else:
            for c in items:
                where = location(c["path"], c["startLine"], c["endLine"], c["title"] or "-")
                symbol = f"  {clean(c['symbol'])}" if c["symbol"] else ""
                typer.echo(f"{c['id']}  {c['workspaceId']}  {c['tier']}/{c['type']}")
                typer.echo(f"    {where}{symbol}  {c['tokenCount']} tokens")

    run_with_services(run)


@context_app.command("show")
def show(context_id: str, as_json: JsonFlag = False) -> None:
    """Show one context."""
    from axon.cli._output import print_json, print_record
    from axon.errors import NotFound

    async def run(services: Services) -> None:
        context = await services.store.get_context(context_id)
        if context is None:
            raise NotFound(f"context '{context_id}' not found")
        (print_json if as_json else print_record)(context.dump())

    run_with_services(run)


@context_app.command("remove")
def remove(context_id: str) -> None:
    """Remove one context."""
    from axon.errors import NotFound

    async def run(services: Services) -> None:
        if not await services.store.delete_contexts([context_id]):
            raise NotFound(f"context '{context_id}' not found")
        await services.search_index.remove([context_id])
        typer.echo(f"removed context {context_id}")

    run_with_services(run)
