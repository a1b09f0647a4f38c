"""Shared caches in front of search: query embeddings and whole search results.

Both use the `Cache` port (Redis when REDIS_URL is set, so replicas share them;
in-process otherwise), each kind with its own TTL:

- `embeddings`: a query's vector, keyed by model and text. Vectors of a model
  never go stale, so the TTL only bounds memory.
- `query-results`: the hits of one search request. The key carries the search
  index's identity and generation (`SearchDB.identity`), which every index
  write advances, so a write makes older results unreachable at once (other
  processes see it within the generation read's one-second trust). The usage,
  confidence and freshness a cached ranking was computed with are as old as the
  entry, so the TTL is short. Only the ranking is kept: contexts are loaded afresh on a
  hit. Only the embedded indexes keep a generation: with Qdrant (`indexes` from
  another machine) results are not cached.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from axon.models import Context, content_hash
from axon.ports import Cache, Embedder, Retriever, ScoreBreakdown, SearchHit, SearchRequest
from axon.security.principal import ensure_access

EMBEDDINGS = "embeddings"
QUERY_RESULTS = "query-results"


def digest(*parts: str) -> str:
    """One cache key for several strings (joined by a separator no text part holds)."""
    return content_hash("\x1f".join(parts))


class CachedQueryEmbedder:
    """An Embedder whose vectors are looked up in the cache first (queries only: indexing
    has its own persistent cache by content hash in search.db)."""

    def __init__(self, embedder: Embedder, cache: Cache, ttl_seconds: float) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.cache = cache
        self.ttl = ttl_seconds

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        keys = [digest(self.name, str(self.dimension), text) for text in texts]
        found: dict[int, NDArray[np.float32]] = {}
        for i, key in enumerate(keys):
            raw = await self.cache.get(EMBEDDINGS, key)
            if raw is not None and len(raw) == 4 * self.dimension:
                found[i] = np.frombuffer(raw, dtype=np.float32)
        missing = [i for i in range(len(texts)) if i not in found]
        if missing:
            fresh = await self.inner.embed([texts[i] for i in missing])
            for row, i in enumerate(missing):
                found[i] = np.asarray(fresh[row], dtype=np.float32)
                await self.cache.set(EMBEDDINGS, keys[i], found[i].tobytes(), self.ttl)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, vector in found.items():
            out[i] = vector
        return out


def _request_key(request: SearchRequest) -> str:
    fields = dataclasses.asdict(request)
    # What the caller may see changes the results; who it is does not.
    principal = request.principal
    workspaces = sorted(principal.workspaces) if principal.workspaces is not None else None
    fields["principal"] = {"tenant": principal.tenant, "workspaces": workspaces}
    return json.dumps(fields, sort_keys=True, default=str)


class IndexIdentity(Protocol):
    async def identity(self) -> str:
        """The index and its state: changes with every index write."""
        ...


class ContextLoader(Protocol):
    async def get_contexts(self, context_ids: Sequence[str]) -> list[Context]: ...


def _encode(hits: list[SearchHit]) -> bytes:
    return json.dumps(
        [
            {
                "id": hit.context.id,
                "score": hit.score,
                "breakdown": dataclasses.asdict(hit.breakdown),
                "matched": list(hit.matched_entities),
            }
            for hit in hits
        ]
    ).encode()


class CachedRetriever:
    """A Retriever that answers a request seen since the index last changed from the
    cache. Only the ranking is cached: the contexts are loaded afresh (through the
    retriever's context cache), and a hit whose context is gone is searched again.
    Errors (bad input, unknown workspace) are never cached."""

    def __init__(
        self, inner: Retriever, cache: Cache, db: IndexIdentity, contexts: ContextLoader, ttl: float
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.db = db
        self.contexts = contexts
        self.ttl = ttl

    async def _cached(self, raw: bytes) -> list[SearchHit] | None:
        try:
            items: list[dict[str, Any]] = json.loads(raw)
            ranking = [
                (str(i["id"]), float(i["score"]), ScoreBreakdown(**i["breakdown"]), i["matched"])
                for i in items
            ]
        except (ValueError, KeyError, TypeError):
            return None  # written by another version: search again and overwrite
        found = {c.id: c for c in await self.contexts.get_contexts([r[0] for r in ranking])}
        if len(found) < len(ranking):
            return None  # deleted since: the index will drop it too
        return [
            SearchHit(found[cid], score, breakdown, tuple(matched))
            for cid, score, breakdown, matched in ranking
        ]

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        ensure_access(request.principal, request.workspace_id)  # before any cached answer
        key = digest(await self.db.identity(), _request_key(request))
        raw = await self.cache.get(QUERY_RESULTS, key)
        hits = await self._cached(raw) if raw is not None else None
        if hits is None:
            hits = await self.inner.search(request)
            await self.cache.set(QUERY_RESULTS, key, _encode(hits), self.ttl)
        return hits
