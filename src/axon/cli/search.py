"""`axon search QUERY`.

QUERY `-` reads the query from stdin, so an issue text or a stack trace can be
piped in whole.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from axon.cli._app import app, run_with_services
from axon.cli._output import print_json, print_table
from axon.models import ContextType, Tier
from axon.ports import SearchRequest
from axon.retrieval import MAX_LIMIT
from axon.retrieval.results import hit_to_dict
from axon.services import Services


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="search text, or - to read it from stdin")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    limit: Annotated[int, typer.Option("--limit", "-k", min=1, max=MAX_LIMIT)] = 10,
    tier: Annotated[
        list[Tier] | None, typer.Option("--tier", help="tier to search (repeatable)")
    ] = None,
    type: Annotated[
        list[ContextType] | None, typer.Option("--type", help="context type (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Search a workspace's contexts: best first, with score breakdowns."""
    text = sys.stdin.read() if query == "-" else query

    async def run(services: Services) -> None:
        request = SearchRequest(
            query=text, workspace_id=workspace, tiers=tier, types=type, limit=limit
        )
        hits = await services.retriever.search(request)
        results = [hit_to_dict(hit, rank, with_content=False) for rank, hit in enumerate(hits, 1)]
        if as_json:
            print_json({"results": results})
            return
        print_table(
            f"{len(results)} results",
            ["#", "path", "lines", "symbol", "tier", "type", "score"],
            [_row(r) for r in results],
        )

    run_with_services(run)


def _row(r: dict[str, Any]) -> tuple[Any, ...]:
    lines = f"{r['startLine']}-{r['endLine']}" if r["startLine"] else ""
    return (
        r["rank"],
        r["path"] or r["title"] or r["id"],
        lines,
        r["symbol"],
        r["tier"],
        r["type"],
        f"{r['score']:.3f}",
    )
