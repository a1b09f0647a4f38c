"""HybridRetriever: lexical + dense search, entity boosts, re-ranking, tiers and diversity.

One search, step by step:
1. check the request; find the partitions each requested tier covers;
2. per partition, BM25 over code-aware query terms, cosine over the query embedding,
   and exact symbol / path look-ups for the entities the query names;
3. relevance = weighted sum of the normalised lexical and dense scores, plus boosts;
4. load the candidates, drop cross-tier duplicates (same content hash: the highest
   tier wins), apply the caller's filters;
5. final = weights . (relevance, freshness, usage, confidence); MMR for diversity;
   results of the same file grouped together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from axon.errors import InvalidInput, NotFound
from axon.models import TIER_ORDER, Context, Tier, utcnow
from axon.ports import (
    DocumentStore,
    Embedder,
    HybridSearch,
    IndexFilter,
    LexicalIndex,
    ScoreBreakdown,
    SearchHit,
    SearchRequest,
    VectorIndex,
)
from axon.retrieval import ranking
from axon.retrieval.diversity import group_by_file, jaccard_matrix, line_sketch, mmr
from axon.retrieval.entities import QueryEntities, candidate_paths, extract_entities
from axon.retrieval.partitions import GLOBAL_PARTITION, partition_for
from axon.retrieval.query import query_terms
from axon.retrieval.ranking import RankingWeights

MAX_QUERY_CHARS = 32_000
MAX_LIMIT = 100
CANDIDATES = 200  # per partition and per list, before fusion
QUERY_EMBED_CHARS = 2000
FILE_SPREAD = 0.3  # weight of a file's 2nd and 3rd best chunks when ordering files
MMR_POOL = 2  # MMR chooses `limit` results among this many times `limit`
FILTER_KEYS = ("pathPrefix", "language")


@dataclass
class _Candidate:
    id: str
    tier: Tier
    lexical: float = 0.0
    dense: float = 0.0
    boosts: float = 0.0
    fused: float = 0.0  # weighted lexical + dense, each normalised to [0, 1]
    entities: list[str] = field(default_factory=list)
    context: Context | None = None
    relevance: float = 0.0
    breakdown: ScoreBreakdown = field(default_factory=ScoreBreakdown)


def validate_request(request: SearchRequest) -> None:
    if not request.query.strip():
        raise InvalidInput.field("query", "query must not be empty")
    if len(request.query) > MAX_QUERY_CHARS:
        raise InvalidInput.field("query", f"query is longer than {MAX_QUERY_CHARS} characters")
    if not 1 <= request.limit <= MAX_LIMIT:
        raise InvalidInput.field("limit", f"limit must be between 1 and {MAX_LIMIT}")
    for key in request.filters or {}:
        if key not in FILTER_KEYS:
            raise InvalidInput.field(f"filters.{key}", f"unknown filter; use {FILTER_KEYS}")


class HybridRetriever:
    def __init__(
        self,
        store: DocumentStore,
        lexical: LexicalIndex,
        vectors: VectorIndex,
        embedder: Embedder | None,
        weights: RankingWeights,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.vectors = vectors
        self.embedder = embedder if embedder is not None and embedder.dimension > 0 else None
        self.weights = weights
        self.hybrid = vectors if isinstance(vectors, HybridSearch) else None

    async def _partitions(self, request: SearchRequest) -> list[tuple[Tier, list[str]]]:
        workspace = await self.store.get_workspace(request.workspace_id)
        if workspace is None:
            raise NotFound(
                f"workspace '{request.workspace_id}' not found",
                code="WORKSPACE_NOT_FOUND",
                details=[{"field": "workspaceId", "message": "no such workspace"}],
            )
        tiers = sorted(set(request.tiers or list(Tier)), key=TIER_ORDER.__getitem__)
        plan: list[tuple[Tier, list[str]]] = []
        for tier in tiers:
            if tier is Tier.GLOBAL:
                plan.append((tier, [GLOBAL_PARTITION]))
            elif tier is Tier.HYBRID:
                owners = [workspace.id] + ([workspace.parent_id] if workspace.parent_id else [])
                plan.append((tier, [partition_for(owner, tier) for owner in owners]))
            else:
                plan.append((tier, [partition_for(workspace.id, tier)]))
        return plan

    async def _query_vector(self, query: str) -> NDArray[np.float32] | None:
        if self.embedder is None:
            return None
        vectors = await self.embedder.embed([query[:QUERY_EMBED_CHARS]])
        return np.asarray(vectors[0], dtype=np.float32)

    async def _dense(
        self,
        partition: str,
        query_vector: asyncio.Task[NDArray[np.float32] | None],
        flt: IndexFilter,
    ) -> dict[str, float]:
        vector = await query_vector
        if vector is None:
            return {}
        return dict(await self.vectors.search(partition, vector, CANDIDATES, flt))

    async def _gather(
        self,
        partition: str,
        tier: Tier,
        terms: list[str],
        query_vector: asyncio.Task[NDArray[np.float32] | None],
        entities: QueryEntities,
        flt: IndexFilter,
        pool: dict[str, _Candidate],
    ) -> None:
        paths = candidate_paths(entities)
        vector = await query_vector if self.hybrid is not None else None
        if self.hybrid is not None and vector is not None:
            # The index fuses both lists itself (Qdrant: prefetch + formula).
            hits = await self.hybrid.hybrid_search(
                partition, terms, vector, CANDIDATES, self.weights.lexical, flt
            )
            lexical = {h.id: h.lexical for h in hits if h.lexical > 0}
            dense = {h.id: h.dense for h in hits}
            fused = {h.id: h.fused for h in hits}
            matched = await self.lexical.match_entities(partition, entities.symbols, paths, flt)
        else:
            # The query is embedded and the dense search runs on worker threads while
            # the lexical side runs here.
            dense_task = asyncio.create_task(self._dense(partition, query_vector, flt))
            try:
                lexical = dict(await self.lexical.search(partition, terms, CANDIDATES, flt))
                matched = await self.lexical.match_entities(partition, entities.symbols, paths, flt)
                dense = await dense_task
            finally:
                dense_task.cancel()  # a no-op once it has finished
            # Without an embedder, lexical relevance carries the whole weight.
            w_lex = self.weights.lexical if query_vector.result() is not None else 1.0
            fused = ranking.fuse(lexical, dense, w_lex)
        path_names = set(paths)
        # A name many contexts match (`get`, `run`, a big file's chunks) says less about
        # each of them than a rare one.
        defined_by: dict[str, int] = {}
        for names in matched.values():
            for name in names:
                defined_by[name] = defined_by.get(name, 0) + 1
        for cid in set(lexical) | set(dense) | set(matched):
            cand = pool.get(cid)
            if cand is None or TIER_ORDER[tier] < TIER_ORDER[cand.tier]:
                cand = pool[cid] = _Candidate(cid, tier)
            cand.lexical = lexical.get(cid, 0.0)
            cand.dense = dense.get(cid, 0.0)
            cand.fused = fused.get(cid, 0.0)
            for name in matched.get(cid, []):
                if name in path_names:
                    # A bare file name (`utils.py`) is weaker evidence than a path.
                    base = ranking.PATH_BOOST * (1.0 if "/" in name else 0.5)
                else:
                    base = ranking.SYMBOL_BOOST
                cand.boosts += base / defined_by[name] ** 0.5
                cand.entities.append(name)

    def _contains_boost(self, cand: _Candidate, names: Sequence[str]) -> None:
        assert cand.context is not None
        text = cand.context.content
        hits = [n for n in names if n not in cand.entities and n in text]
        if hits:
            cand.boosts += ranking.CONTAINS_BOOST * min(len(hits), 3) / 3
            cand.entities += hits

    @staticmethod
    def _allowed(context: Context, filters: dict[str, object] | None) -> bool:
        if not filters:
            return True
        prefix = filters.get("pathPrefix")
        if isinstance(prefix, str) and not (context.path or "").startswith(prefix):
            return False
        language = filters.get("language")
        return not (isinstance(language, str) and context.language != language)

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        validate_request(request)
        plan = await self._partitions(request)
        entities = extract_entities(request.query)
        terms = query_terms(request.query, entities)
        query_vector = asyncio.create_task(self._query_vector(request.query))
        pool: dict[str, _Candidate] = {}
        try:
            for tier, partitions in plan:
                tier_filter = IndexFilter(tiers=[tier], types=request.types)
                for partition in partitions:
                    await self._gather(
                        partition, tier, terms, query_vector, entities, tier_filter, pool
                    )
        finally:
            query_vector.cancel()  # a no-op once it has finished
        if not pool:
            return []
        # Load the strongest candidates only: enough for the limit after filters and dedupe.
        for cand in pool.values():
            cand.relevance = cand.fused + min(cand.boosts, ranking.MAX_BOOST)
        budget = max(request.limit * 3, 60) * (3 if request.filters else 1)
        ranked = sorted(pool.values(), key=lambda c: (-c.relevance, TIER_ORDER[c.tier], c.id))
        ranked = ranked[:budget]
        contexts = {c.id: c for c in await self.store.get_contexts([c.id for c in ranked])}
        names = [*entities.symbols, *entities.errors]
        now = utcnow()
        kept: list[_Candidate] = []
        seen_hashes: dict[str, Tier] = {}
        for cand in sorted(ranked, key=lambda c: TIER_ORDER[c.tier]):
            context = contexts.get(cand.id)
            if context is None or not self._allowed(context, request.filters):
                continue  # deleted since it was indexed, or filtered out
            if (
                context.content_hash in seen_hashes
                and seen_hashes[context.content_hash] != cand.tier
            ):
                continue  # the same text at a higher tier is already in
            seen_hashes.setdefault(context.content_hash, cand.tier)
            cand.context = context
            self._contains_boost(cand, names)
            cand.relevance = cand.fused + min(cand.boosts, ranking.MAX_BOOST)
            cand.relevance *= ranking.kind_prior(context, self.weights)
            kept.append(cand)
        top = max((c.relevance for c in kept), default=0.0) or 1.0
        w = self.weights
        for cand in kept:
            assert cand.context is not None
            relevance = cand.relevance / top
            fresh = ranking.freshness(cand.context, now, w.half_life_days)
            used = ranking.usage(cand.context)
            conf = min(max(cand.context.confidence, 0.0), 1.0)
            final = ranking.final_score(w, relevance, fresh, used, conf)
            cand.breakdown = ScoreBreakdown(
                lexical=cand.lexical,
                dense=cand.dense,
                boosts=min(cand.boosts, ranking.MAX_BOOST),
                freshness=fresh,
                usage=used,
                confidence=conf,
                final=final,
            )
        kept.sort(key=lambda c: (-c.breakdown.final, TIER_ORDER[c.tier], c.id))
        kept = kept[: request.limit * MMR_POOL]
        similarity = jaccard_matrix(line_sketch([c.context.content for c in kept if c.context]))
        finals = np.asarray([c.breakdown.final for c in kept], dtype=np.float64)
        diverse = [kept[i] for i in mmr(finals, similarity, w.mmr_lambda, request.limit)]
        grouped = group_by_file(
            diverse,
            key=lambda c: (
                f"{c.context.workspace_id}:{c.context.path}"
                if c.context and c.context.path
                else None
            ),
            score=lambda c: c.breakdown.final,
            spread=FILE_SPREAD,
        )
        return [
            SearchHit(
                context=c.context,
                score=c.breakdown.final,
                breakdown=c.breakdown,
                matched_entities=tuple(dict.fromkeys(c.entities)),
            )
            for c in grouped
            if c.context is not None
        ]
