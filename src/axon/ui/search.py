"""The search playground: a query, filters, and the ranked hits with their score
breakdown drawn as bars and the matched entities highlighted."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from axon.api.deps import PrincipalDep, ServicesDep
from axon.api.routers.search import SearchBody, search
from axon.kinds import MAX_LIMIT, MAX_QUERY_CHARS
from axon.models import ContextType, Tier
from axon.ui.charts import bars, highlight
from axon.ui.render import page
from axon.workspaces import visible_workspaces

router = APIRouter(prefix="/ui", include_in_schema=False)
# The parts of a hit's score, in the order the breakdown shows them.
PARTS = ("lexical", "dense", "boosts", "freshness", "usage", "confidence")
SNIPPET_LINES = 12
BAR_SPAN = 160.0
MAX_LISTED_WORKSPACES = 200


def _snippet(content: str) -> str:
    return "\n".join(content.splitlines()[:SNIPPET_LINES])


def _view(hit: dict[str, Any], scales: dict[str, float]) -> dict[str, Any]:
    breakdown = hit["breakdown"]
    return {
        **hit,
        "bars": bars([(p, float(breakdown[p])) for p in PARTS], BAR_SPAN, scales),
        "snippet": highlight(_snippet(hit.get("content") or ""), hit["matchedEntities"]),
    }


@router.get("/search")
async def search_page(
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    workspace: Annotated[str, Query(max_length=200)] = "",
    type: Annotated[str, Query(max_length=32)] = "",
    tier: Annotated[str, Query(max_length=32)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> HTMLResponse:
    workspaces = await visible_workspaces(services.store, principal, MAX_LISTED_WORKSPACES)
    chosen = workspace or (workspaces[0].id if workspaces else "")
    hits: list[dict[str, Any]] | None = None
    if q.strip() and chosen:
        body = SearchBody(
            query=q,
            workspace_id=chosen,
            types=[ContextType(type)] if type in set(ContextType) else None,
            tiers=[Tier(tier)] if tier in set(Tier) else None,
            limit=limit,
        )
        results = (await search(body, services, principal))["results"]
        # One scale per part for every hit on the page, so hits compare at a glance: the
        # part's largest value, or 1 for the parts that are fractions (freshness, ...).
        scales = {p: max([1.0, *(float(r["breakdown"][p]) for r in results)]) for p in PARTS}
        hits = [_view(r, scales) for r in results]
    return page(
        request,
        "search.html",
        q=q,
        workspace=chosen,
        workspaces=workspaces,
        type=type,
        tier=tier,
        limit=limit,
        types=list(ContextType),
        tiers=list(Tier),
        hits=hits,
        parts=PARTS,
        span=BAR_SPAN,
    )
