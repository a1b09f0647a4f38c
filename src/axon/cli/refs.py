"""`axon refs NAME`: where a name is defined and used, from the code graph.

`--json` prints exactly what GET /api/v1/workspaces/{id}/symbols/{name} returns; the
text form lists the definitions, then the references, as `path:line` an editor opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from axon.cli._app import app, run_with_services

if TYPE_CHECKING:
    from axon.services import Services


@app.command()
def refs(
    name: Annotated[str, typer.Argument(help="a name (current_app) or a dotted one (Flask.run)")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the API's response")] = False,
) -> None:
    """Definitions and references of a name across the workspace's files."""
    from axon.cli._text import clean, print_json
    from axon.retrieval.symbols import invalid_symbol, is_symbol_name, look_up_symbol
    from axon.workspaces import find_workspace

    async def run(services: Services) -> dict[str, Any]:
        if not is_symbol_name(name):
            raise invalid_symbol(name)
        found = await find_workspace(services.store, workspace)
        answer = await look_up_symbol(services.store, found, name)
        return answer.model_dump(mode="json", by_alias=True)

    found = run_with_services(run)
    if as_json:
        print_json(found)
        return
    definitions: list[dict[str, Any]] = found["definitions"]
    references: list[dict[str, Any]] = found["references"]
    if not definitions and not references:
        typer.echo(f"no definition or reference of {clean(name)} (is the workspace indexed?)")
        return
    typer.echo(f"{len(definitions)} definitions:")
    for d in definitions:
        typer.echo(f"  {clean(d['path'])}:{d['line']}  {d['kind']} {clean(d['symbol'] or '')}")
    typer.echo(f"{len(references)} references:")
    for r in references:
        where = f" in {clean(r['in'])}" if r["in"] else ""
        target = f" -> {clean(r['target'])}" if r["target"] else ""
        typer.echo(f"  {clean(r['path'])}:{r['line']}  {r['kind']}{where}{target}")
    if found["truncated"]:
        typer.echo("(more matched: only the first rows are shown, definitions first)")
