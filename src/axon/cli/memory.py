"""`axon memory list|show|history|supersede|confirm|forget|pin|unpin|demote`: memory.

Memory is what people and exchanges taught Axon (decisions, conventions, notes,
conversation turns), as opposed to indexed code; the same operations are on the API
(`/api/v1/contexts`, `.../{id}/history`, `.../{id}/supersede`, `.../{id}/confirm`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from axon.cli._app import app, run_with_services
from axon.kinds import ContextType

if TYPE_CHECKING:
    from axon.models import Context
    from axon.services import Services

memory_app = typer.Typer(
    help="Decisions, conventions and notes Axon remembers.", no_args_is_help=True
)
app.add_typer(memory_app, name="memory")

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
MEMORY_TYPES = (
    ContextType.DECISION,
    ContextType.PATTERN,
    ContextType.NOTE,
    ContextType.CONVERSATION,
)


def _line(context: Context) -> str:
    from axon.cli._text import clean

    state = "current" if context.current else f"superseded by {context.superseded_by}"
    if context.stale is not None:
        state += f", stale: {clean(context.stale.reason)}"
    first = clean(context.content.strip().splitlines()[0] if context.content.strip() else "")
    return (
        f"{context.id}  {context.type}  confidence {context.confidence:.2f} "
        f"(strength {context.evidence.strength:.0f})  {state}\n    {first[:120]}"
    )


@memory_app.command("list")
def list_(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    type: Annotated[ContextType | None, typer.Option("--type")] = None,
    include_superseded: Annotated[
        bool, typer.Option("--all", help="also list superseded memory")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List a workspace's memory, current first."""
    from axon.cli._output import print_json
    from axon.ports import ContextFilter

    flt = ContextFilter(workspace_id=workspace, types=[type] if type else list(MEMORY_TYPES))

    async def run(services: Services) -> None:
        found: list[Context] = []
        async for context in services.store.iter_contexts(flt):
            if include_superseded or context.current:
                found.append(context)
            if len(found) >= limit:
                break
        found.sort(key=lambda c: (not c.current, -c.confidence, c.id))
        if as_json:
            print_json([c.dump() for c in found])
            return
        for context in found:
            typer.echo(_line(context))

    run_with_services(run)


@memory_app.command("show")
def show(context_id: str, as_json: JsonFlag = False) -> None:
    """Show one memory with its evidence and validity."""
    from axon.cli._output import print_json, print_record
    from axon.errors import NotFound

    async def run(services: Services) -> None:
        context = await services.store.get_context(context_id)
        if context is None:
            raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
        (print_json if as_json else print_record)(context.dump())

    run_with_services(run)


@memory_app.command("history")
def history(context_id: str, as_json: JsonFlag = False) -> None:
    """Every version of a memory, oldest first."""
    from axon.cli._output import print_json

    async def run(services: Services) -> None:
        chain = await services.supersession.history(context_id)
        if as_json:
            print_json([c.dump() for c in chain])
            return
        for context in chain:
            until = context.valid_to.isoformat() if context.valid_to else "now"
            start = (context.valid_from or context.created_at).isoformat()
            typer.echo(f"{start} .. {until}")
            typer.echo(f"  {_line(context)}")

    run_with_services(run)


@memory_app.command("supersede")
def supersede(
    old_id: Annotated[str, typer.Argument(help="the memory that no longer holds")],
    new_id: Annotated[str, typer.Argument(help="the memory that replaces it")],
) -> None:
    """Say that NEW replaces OLD: OLD leaves search and stays in the history."""

    async def run(services: Services) -> None:
        await services.supersession.supersede(old_id, new_id)
        typer.echo(f"{old_id} superseded by {new_id}")

    run_with_services(run)


@memory_app.command("confirm")
def confirm(context_ids: Annotated[list[str], typer.Argument(help="memory ids")]) -> None:
    """Vouch for memories: their confidence rises and a stale mark is cleared."""
    from axon.errors import NotFound
    from axon.evolution import confidence

    async def run(services: Services) -> None:
        confirmed = await confidence.confirm(services.store, context_ids)
        for context in confirmed:
            typer.echo(f"confirmed {context.id}: confidence {context.confidence:.2f}")
        missing = sorted(set(context_ids) - {c.id for c in confirmed})
        if missing:
            raise NotFound(f"context '{missing[0]}' not found", code="CONTEXT_NOT_FOUND")

    run_with_services(run)


@memory_app.command("forget")
def forget(context_id: str) -> None:
    """Delete a memory for good (superseding keeps it in the history instead)."""
    from axon.errors import NotFound

    async def run(services: Services) -> None:
        if not await services.store.delete_contexts([context_id]):
            raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
        await services.search_index.remove([context_id])
        typer.echo(f"forgot {context_id}")

    run_with_services(run)


def _steer(context_id: str, action: str) -> None:
    async def run(services: Services) -> None:
        promoter = services.promoter
        if action == "demote":
            context = await promoter.demote(context_id)
        else:
            context = await promoter.pin(context_id, pinned=action == "pin")
        done = {"pin": "pinned", "unpin": "unpinned", "demote": "demoted"}[action]
        typer.echo(f"{done} {context.id}")

    run_with_services(run)


@memory_app.command("pin")
def pin(context_id: Annotated[str, typer.Argument(help="a promoted global context")]) -> None:
    """Keep a promoted global context whatever its sources do."""
    _steer(context_id, "pin")


@memory_app.command("unpin")
def unpin(context_id: Annotated[str, typer.Argument(help="a promoted global context")]) -> None:
    """Let the evolution job demote a promoted context again when its sources go."""
    _steer(context_id, "unpin")


@memory_app.command("demote")
def demote(context_id: Annotated[str, typer.Argument(help="a promoted global context")]) -> None:
    """Take a promoted context out of every search; it is never promoted again."""
    _steer(context_id, "demote")
