"""`axon search QUERY`.

QUERY `-` reads the query from stdin, so an issue text or a stack trace can be
piped in whole. `--json` prints exactly what POST /api/v1/contexts/search returns;
the text form lists the hits by score, each with its whole path and line range.
When an `axon serve` for the same data folder runs (without auth), the search is
sent to it instead of loading the model here (axon.local_server).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from axon.cli._app import app, run_with_services
from axon.kinds import MAX_LIMIT, ContextType, Tier

if TYPE_CHECKING:
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
    content: Annotated[bool, typer.Option("--content", help="show each hit's first lines")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the API's search response as JSON")
    ] = False,
) -> None:
    """Search a workspace's contexts: best first, with whole paths and line ranges."""
    from axon.cli._text import print_json

    body: dict[str, Any] = {
        "query": sys.stdin.read() if query == "-" else query,
        "workspaceId": workspace,
        "limit": limit,
        "includeContent": as_json or content,
    }
    if tier:
        body["tiers"] = [str(t) for t in tier]
    if type:
        body["types"] = [str(t) for t in type]
    response = _search_on_server(body) or _search_here(body)
    if as_json:
        print_json(response)
    else:
        _print_hits(response["results"], content, workspace)


def _search_on_server(body: dict[str, Any]) -> dict[str, Any] | None:
    """Ask the running `axon serve` of this data folder, if there is one (see
    axon.local_server); None sends the search to this process instead."""
    from axon.local_server import find_server
    from axon.paths import data_dir_from_env

    server = find_server(data_dir_from_env())
    if server is None:
        return None
    response = server.post("/api/v1/contexts/search", body)
    if response is None or not isinstance(response.get("results"), list):
        return None
    return response


def _search_here(body: dict[str, Any]) -> dict[str, Any]:
    """Run the search in this process: open the store, the indexes and the model."""
    from axon.ports import SearchRequest
    from axon.retrieval.results import search_response

    request = SearchRequest(
        query=body["query"],
        workspace_id=body["workspaceId"],
        tiers=body.get("tiers"),
        types=body.get("types"),
        limit=body["limit"],
    )

    async def run(services: Services) -> dict[str, Any]:
        hits = await services.retriever.search(request)
        return search_response(hits, body["includeContent"])

    return run_with_services(run)


def _print_hits(results: list[dict[str, Any]], with_content: bool, searched: str) -> None:
    """One block per hit, by score: `score  path:start-end`, then what it is."""
    from axon.cli._text import clean, location, snippet
    from axon.kinds import short_name

    if not results:
        typer.echo("no results")
        return
    # The API orders by rank (diversity, then files kept together); a person reading
    # a list of scores expects them to fall. sorted() is stable: rank breaks ties.
    ranked = sorted(results, key=lambda r: -r["score"])
    typer.echo(f"{len(ranked)} results, best first (score, location):")
    for n, r in enumerate(ranked, 1):
        where = location(r["path"], r["startLine"], r["endLine"], r["title"] or r["id"])
        # A root's search: say which sub-project a hit is from (not the one asked for,
        # by its id or its short name).
        if searched not in (r["workspaceId"], short_name(r["workspaceId"])):
            where = f"{short_name(r['workspaceId'])}: {where}"
        typer.echo(f"{n:>3}. {r['score']:.3f}  {where}")
        about = [clean(r["symbol"])] if r["symbol"] else []
        about += [r["type"], f"{r['tier']} tier"]
        if r["path"] is None and r["title"]:
            about.append(f"id {r['id']}")  # a note or decision: the id to show or remove it
        typer.echo(f"{'':11}{' · '.join(about)}")
        if with_content:
            for line in snippet(r.get("content") or "", r["startLine"]):
                typer.echo(f"{'':11}{line}")
