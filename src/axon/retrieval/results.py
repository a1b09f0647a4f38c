"""Search hits as JSON-ready dicts, shared by the API and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from axon.indexing.roles import context_role
from axon.ports import SearchHit


def hit_to_dict(hit: SearchHit, rank: int, with_content: bool = True) -> dict[str, Any]:
    ctx = hit.context
    b = hit.breakdown
    data: dict[str, Any] = {
        "rank": rank,
        "id": ctx.id,
        "workspaceId": ctx.workspace_id,
        "path": ctx.path,
        "startLine": ctx.start_line,
        "endLine": ctx.end_line,
        "symbol": ctx.symbol,
        "tier": str(ctx.tier),
        "type": str(ctx.type),
        "title": ctx.title,
        "language": ctx.language,
        "role": str(context_role(ctx)),
        "score": round(hit.score, 6),
        "breakdown": {
            "lexical": round(b.lexical, 6),
            "dense": round(b.dense, 6),
            "boosts": round(b.boosts, 6),
            "freshness": round(b.freshness, 6),
            "usage": round(b.usage, 6),
            "confidence": round(b.confidence, 6),
            "role": round(b.role, 6),
            "graph": round(b.graph, 6),
            "change": round(b.change, 6),
            "cochange": round(b.cochange, 6),
            "final": round(b.final, 6),
        },
        "matchedEntities": list(hit.matched_entities),
        "contentHash": ctx.content_hash,
        "tokenCount": ctx.token_count,
    }
    if with_content:
        data["content"] = ctx.content
    return data


def search_response(hits: Sequence[SearchHit], with_content: bool = True) -> dict[str, Any]:
    """The body of POST /api/v1/contexts/search; `axon search --json` prints the same."""
    return {
        "results": [hit_to_dict(hit, rank, with_content) for rank, hit in enumerate(hits, 1)],
        "count": len(hits),
    }
