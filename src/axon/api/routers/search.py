"""`POST /api/v1/contexts/search`: ranked, tiered context search with score breakdowns.

Registered before the contexts router; the path is literal, so it never reads as
a context id (and `/{context_id}` only takes GET, PATCH and DELETE).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints
from pydantic.alias_generators import to_camel

from axon.api.deps import PrincipalDep, ServicesDep, require_workspace
from axon.api.responses import errors
from axon.kinds import MAX_LIMIT, MAX_QUERY_CHARS, Role
from axon.models import WORKSPACE_ID_PATTERN, CamelModel, ContextType, Tier
from axon.ports import SearchRequest
from axon.retrieval.results import search_response

router = APIRouter(prefix="/api/v1/contexts", tags=["search"])


MAX_FILTERS = 20
FilterKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]
FilterValue = Annotated[str, StringConstraints(max_length=1000)]


class SearchBody(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    workspace_id: str = Field(pattern=WORKSPACE_ID_PATTERN)
    tiers: list[Tier] | None = Field(default=None, min_length=1, max_length=3)
    types: list[ContextType] | None = Field(default=None, min_length=1, max_length=20)
    limit: StrictInt = Field(default=10, ge=1, le=MAX_LIMIT)
    filters: dict[FilterKey, FilterValue] | None = Field(default=None, max_length=MAX_FILTERS)
    include_content: StrictBool = True
    include_superseded: StrictBool = False


class ScoreParts(BaseModel):
    """How the final score came about (each part already weighted)."""

    lexical: float
    dense: float
    boosts: float
    freshness: float
    usage: float
    confidence: float
    role: float = Field(description="the factor the hit's role got for the query's intent")
    graph: float = Field(
        default=0.0,
        description="relevance from the code graph: closeness to the files defining the "
        "symbols the query names",
    )
    change: float = Field(
        default=0.0, description="relevance from how often the hit's file changed (git history)"
    )
    cochange: float = Field(
        default=0.0,
        description="relevance from changing together with the best hits' files (git history)",
    )
    final: float


class SearchHitView(CamelModel):
    rank: int = Field(ge=1)
    id: str
    workspace_id: str
    path: str | None
    start_line: int | None
    end_line: int | None
    symbol: str | None
    tier: Tier
    type: ContextType
    title: str | None
    language: str | None
    role: Role
    score: float
    breakdown: ScoreParts
    matched_entities: list[str]
    content_hash: str
    token_count: int
    content: str | None = Field(default=None, description="absent when includeContent is false")


class SearchResults(BaseModel):
    results: list[SearchHitView]
    count: int


# Built as dicts (shared with the CLI); unset `content` stays absent, not null.
@router.post(
    "/search",
    response_model=SearchResults,
    response_model_exclude_unset=True,
    responses=errors(404),
)
async def search(
    body: SearchBody, services: ServicesDep, principal: PrincipalDep
) -> dict[str, Any]:
    # Resolved first: a short name or a typo gets its answer (suggesting only names this
    # caller may use) before any cached result is looked up.
    workspace = await require_workspace(services, principal, body.workspace_id)
    request = SearchRequest(
        query=body.query,
        workspace_id=workspace.id,
        tiers=body.tiers,
        types=body.types,
        limit=body.limit,
        filters=dict(body.filters) if body.filters else None,
        principal=principal,
        include_superseded=body.include_superseded,
    )
    return search_response(await services.retriever.search(request), body.include_content)
