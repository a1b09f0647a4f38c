"""HybridRetriever: lexical + dense search, entity boosts, re-ranking, tiers and diversity.

One search, step by step:
1. check the request; find the partitions each requested tier covers;
2. per partition, BM25 over code-aware query terms, cosine over the query embedding,
   and exact symbol / path look-ups for the entities the query names;
3. relevance = weighted sum of the lexical and dense scores, each normalised over every
   partition searched (one scale: a sub-project's or the hybrid tier's best match is not
   worth the workspace's best unless it scores as well), plus boosts;
4. load the candidates, drop cross-tier duplicates (same content hash: the highest
   tier wins), apply the caller's filters;
5. relevance times the kind prior (prose) and the role factor (the context's role
   under the query's intent: tests after the implementation for a bug report, docs
   first for "how do I"); a file the query names keeps its full weight;
6. final = weights . (relevance, freshness, usage, confidence); MMR for diversity;
   results of the same file grouped together.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from axon.embeddings.pieces import query_embedding_text
from axon.errors import InvalidInput
from axon.indexing.roles import context_role
from axon.kinds import MAX_LIMIT, MAX_QUERY_CHARS, WorkspaceType
from axon.models import TIER_ORDER, Context, ContextType, Tier, utcnow
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
from axon.retrieval import exact, ranking
from axon.retrieval.context_cache import ContextCache
from axon.retrieval.diversity import group_by_file, jaccard_matrix, line_sketch, mmr
from axon.retrieval.entities import QueryEntities, candidate_paths, extract_entities
from axon.retrieval.graph import GraphCache
from axon.retrieval.partitions import global_partition, history_partition, partition_for
from axon.retrieval.query import query_terms
from axon.retrieval.ranking import Intent, RankingWeights, intent_of, role_factor
from axon.retrieval.segments import focus
from axon.security.principal import ensure_access
from axon.workspaces import children_of, find_workspace

CANDIDATES = 200  # per partition and per list, before fusion
RESERVE_CANDIDATES = 100  # per partition and list, of the reserved types
FILE_SPREAD = 0.3  # weight of a file's 2nd and 3rd best chunks when ordering files
MMR_POOL = 2  # MMR chooses `limit` results among this many times `limit`
PREFETCH = 60  # lexical hits loaded while the query embedding runs
SEED_FILES = 3  # the best files whose co-change partners gain (git history term)
GRAPH_WORKSPACES = 4  # workspaces (a root's sub-projects) whose code graph one search walks
FILTER_KEYS = ("pathPrefix", "language")


# Hundreds per search, most never loaded: slots, and no per-instance default objects
# (every allocation brings the next garbage collection closer).
@dataclass(slots=True)
class _Candidate:
    id: str
    tier: Tier
    lexical: float = 0.0
    dense: float = 0.0
    boosts: float = 0.0
    fused: float = 0.0  # weighted lexical + dense, each normalised to [0, 1] over the pool
    entities: tuple[str, ...] = ()  # few candidates match any: no list for the rest
    context: Context | None = None
    relevance: float = 0.0
    # The re-rank's signals and final score (a ScoreBreakdown once it is a hit).
    freshness: float = 0.0
    usage: float = 0.0
    confidence: float = 0.0
    final: float = 0.0
    main: bool = False  # found by the main lists (a plain search would see it)
    reserved: bool = False  # found by the lists of the reserved types
    named_path: bool = False  # its file is one the query names
    role: float = 1.0  # the role factor its relevance got
    graph: float = 0.0  # relevance from the code graph's walk
    change: float = 0.0  # relevance from its file's change frequency
    cochange: float = 0.0  # relevance from changing with the best hits' files


@runtime_checkable
class SearchesMany(Protocol):
    """A lexical index that ranks one query under several filters in one pass."""

    async def search_many(
        self, partition: str, terms: Sequence[str], asks: Sequence[tuple[int, IndexFilter | None]]
    ) -> list[list[tuple[str, float]]]: ...


@runtime_checkable
class FindsAllTerms(Protocol):
    """A lexical index that lists the contexts holding every one of some terms."""

    async def containing_all(
        self, partition: str, terms: Sequence[str], filters: IndexFilter | None, limit: int
    ) -> list[str]: ...


def _parse_query(query: str) -> tuple[QueryEntities, list[str], str]:
    """Entities and lexical terms of the query's focus (without version dumps and
    template boilerplate), and the focus itself for the exact-match channel."""
    focused = focus(query)
    entities = extract_entities(focused)
    return entities, query_terms(focused, entities), focused


def _fuse(pool: dict[str, _Candidate], lexical_weight: float) -> None:
    """Each candidate's fused relevance, on one scale for every partition searched and
    for the main and reserved lists alike (a filter changes no score). Normalising per
    partition made a small partition's best match, however weak, worth the big one's
    best: a one-line note outranked the decision that answers the question."""
    fused = ranking.fuse(
        {c.id: c.lexical for c in pool.values() if c.lexical > 0},
        {c.id: c.dense for c in pool.values() if c.dense != 0},
        lexical_weight,
    )
    for cand in pool.values():
        cand.fused = fused.get(cand.id, 0.0)


def validate_request(request: SearchRequest) -> None:
    if not request.query.strip():
        raise InvalidInput.field("query", "query must not be empty")
    if len(request.query) > MAX_QUERY_CHARS:
        raise InvalidInput.field("query", f"query is longer than {MAX_QUERY_CHARS} characters")
    if not 1 <= request.limit <= MAX_LIMIT:
        raise InvalidInput.field("limit", f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= request.reserve_limit <= MAX_LIMIT:
        raise InvalidInput.field("reserveLimit", f"reserveLimit must be between 0 and {MAX_LIMIT}")
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
        contexts: ContextCache | None = None,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.vectors = vectors
        self.embedder = embedder if embedder is not None and embedder.dimension > 0 else None
        self.weights = weights
        self._searches_many = lexical if isinstance(lexical, SearchesMany) else None
        # Without it (the Qdrant adapter) the exact-match channel is off.
        self._finds_all = lexical if isinstance(lexical, FindsAllTerms) else None
        # Without a cache given, every search reads its candidates from the store.
        self.contexts = contexts if contexts is not None else ContextCache(store, ttl=0)
        self.hybrid = vectors if isinstance(vectors, HybridSearch) else None
        self.graphs = GraphCache(store)

    async def _partitions(
        self, request: SearchRequest, history: bool
    ) -> list[tuple[Tier, list[str]]]:
        principal = request.principal
        workspace = request.workspace
        if workspace is None or workspace.id != request.workspace_id:
            workspace = await find_workspace(self.store, request.workspace_id, principal=principal)
        ensure_access(principal, workspace.id)
        tiers = sorted(set(request.tiers or list(Tier)), key=TIER_ORDER.__getitem__)
        # A root's searches cover its sub-projects too; each hit keeps its child's id.
        covered = [workspace.id]
        if workspace.type is WorkspaceType.ROOT:
            children = await children_of(self.store, workspace.id)
            # Only the sub-projects this caller may use.
            covered += [child.id for child in children if principal.can_access(child.id)]
        plan: list[tuple[Tier, list[str]]] = []
        for tier in tiers:
            if tier is Tier.GLOBAL:
                tenants = [None] + ([principal.tenant] if principal.tenant else [])
                plan.append((tier, [global_partition(t) for t in tenants]))
            elif tier is Tier.HYBRID:
                owners = covered + ([workspace.parent_id] if workspace.parent_id else [])
                # A relative the caller may not use shares nothing with it.
                visible = [o for o in owners if principal.can_access(o)]
                plan.append((tier, [partition_for(owner, tier) for owner in visible]))
            else:
                partitions = [partition_for(owner, tier) for owner in covered]
                if history:  # a question about changes: the commits compete too
                    partitions += [history_partition(owner) for owner in covered]
                plan.append((tier, partitions))
        return plan

    async def _query_vector(self, query: str) -> NDArray[np.float32] | None:
        if self.embedder is None:
            return None
        # Off the loop: the first call loads (and verifies) the tokenizer's files.
        text = await asyncio.to_thread(query_embedding_text, query)
        vectors = await self.embedder.embed([text])
        return np.asarray(vectors[0], dtype=np.float32)

    async def _dense(
        self,
        partition: str,
        query_vector: asyncio.Task[NDArray[np.float32] | None],
        flt: IndexFilter,
        k: int = CANDIDATES,
    ) -> dict[str, float]:
        vector = await query_vector
        if vector is None:
            return {}
        return dict(await self.vectors.search(partition, vector, k, flt))

    async def _gather(
        self,
        partition: str,
        tier: Tier,
        terms: list[str],
        query_vector: asyncio.Task[NDArray[np.float32] | None],
        entities: QueryEntities,
        flt: IndexFilter,
        pool: dict[str, _Candidate],
        reserve: IndexFilter | None = None,
    ) -> None:
        paths = candidate_paths(entities)
        vector = await query_vector if self.hybrid is not None else None
        if self.hybrid is not None and vector is not None:
            # The index fuses both lists itself (Qdrant: prefetch + formula).
            asks = [(CANDIDATES, flt)] + ([(RESERVE_CANDIDATES, reserve)] if reserve else [])
            found = await self.hybrid.hybrid_search(
                partition, terms, vector, asks, self.weights.lexical
            )
            main_hits, reserve_hits = found[0], found[1] if reserve else []
            lexical = {h.id: h.lexical for h in main_hits if h.lexical > 0}
            reserved = {h.id: h.lexical for h in reserve_hits if h.lexical > 0}
            dense = {h.id: h.dense for h in main_hits}
            reserved_dense = {h.id: h.dense for h in reserve_hits}
            matched = await self.lexical.match_entities(partition, entities.symbols, paths, flt)
        else:
            lexical, reserved, dense, reserved_dense, matched = await self._lists(
                partition, terms, query_vector, entities, paths, flt, reserve
            )
        path_names = set(paths)
        # A name many contexts match (`get`, `run`, a big file's chunks) says less about
        # each of them than a rare one.
        defined_by: dict[str, int] = {}
        for names in matched.values():
            for name in names:
                defined_by[name] = defined_by.get(name, 0) + 1
        main = lexical.keys() | dense.keys() | matched.keys()
        for cid in main | reserved.keys() | reserved_dense.keys():
            cand = pool.get(cid)
            if cand is None or TIER_ORDER[tier] < TIER_ORDER[cand.tier]:
                cand = pool[cid] = _Candidate(cid, tier)
            cand.main = cand.main or cid in main
            cand.reserved = cand.reserved or cid in reserved or cid in reserved_dense
            cand.lexical = lexical.get(cid, reserved.get(cid, 0.0))
            cand.dense = dense.get(cid, reserved_dense.get(cid, 0.0))
            for name in matched.get(cid, []):
                if name in path_names:
                    # A bare file name (`utils.py`) is weaker evidence than a path.
                    base = ranking.PATH_BOOST * (1.0 if "/" in name else 0.5)
                    cand.named_path = True
                else:
                    base = ranking.SYMBOL_BOOST
                cand.boosts += base / defined_by[name] ** 0.5
                cand.entities += (name,)

    async def _lists(
        self,
        partition: str,
        terms: list[str],
        query_vector: asyncio.Task[NDArray[np.float32] | None],
        entities: QueryEntities,
        paths: list[str],
        flt: IndexFilter,
        reserve: IndexFilter | None,
    ) -> tuple[
        dict[str, float],
        dict[str, float],
        dict[str, float],
        dict[str, float],
        dict[str, list[str]],
    ]:
        """The lexical and dense lists (main and reserved) and the entity matches, from
        the embedded indexes: the query is embedded and the dense search runs on worker
        threads while the lexical side runs here."""
        dense_task = asyncio.create_task(self._dense(partition, query_vector, flt))
        reserve_task = (
            asyncio.create_task(self._dense(partition, query_vector, reserve, RESERVE_CANDIDATES))
            if reserve is not None
            else None
        )
        prefetch: asyncio.Task[list[Context]] | None = None
        try:
            lexical, reserved = await self._lexical(partition, terms, flt, reserve)
            if lexical and self.contexts.ttl > 0 and not dense_task.done():
                # While the query is still being embedded, load the best lexical hits
                # into the context cache: most of them will be among the final ones.
                best = sorted(lexical, key=lexical.__getitem__, reverse=True)[:PREFETCH]
                prefetch = asyncio.create_task(self.contexts.get_contexts(best))
            matched = await self.lexical.match_entities(partition, entities.symbols, paths, flt)
            dense = await dense_task
            reserved_dense = await reserve_task if reserve_task is not None else {}
            if prefetch is not None:
                await prefetch
        finally:
            dense_task.cancel()  # a no-op once it has finished
            if reserve_task is not None:
                reserve_task.cancel()
        return lexical, reserved, dense, reserved_dense, matched

    async def _lexical(
        self, partition: str, terms: list[str], flt: IndexFilter, reserve: IndexFilter | None
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The main lexical list and the reserved types' one (empty without)."""
        if reserve is None:
            return dict(await self.lexical.search(partition, terms, CANDIDATES, flt)), {}
        if self._searches_many is not None:  # one scoring pass for both
            main, reserved = await self._searches_many.search_many(
                partition, terms, [(CANDIDATES, flt), (RESERVE_CANDIDATES, reserve)]
            )
            return dict(main), dict(reserved)
        main = await self.lexical.search(partition, terms, CANDIDATES, flt)
        reserved = await self.lexical.search(partition, terms, RESERVE_CANDIDATES, reserve)
        return dict(main), dict(reserved)

    async def _exact_matches(
        self,
        phrases: list[str],
        searched: list[tuple[str, Tier, IndexFilter]],
        pool: dict[str, _Candidate],
    ) -> None:
        """The exact-match channel (`exact.py`): contexts holding a phrase of the query
        literally get EXACT_BOOST, joining the candidates if the lists missed them."""
        if not phrases or self._finds_all is None:
            return
        for phrase in phrases:
            selecting = exact.selecting_terms(phrase)
            found: dict[str, Tier] = {}
            for partition, tier, flt in searched:
                ids = await self._finds_all.containing_all(
                    partition, selecting, flt, exact.CANDIDATES
                )
                for cid in ids:
                    found.setdefault(cid, tier)
            for context in await self.contexts.get_contexts(list(found)):
                share = exact.match(phrase, context.content)
                if share <= 0:
                    continue
                cand = pool.get(context.id)
                if cand is None:
                    cand = pool[context.id] = _Candidate(context.id, found[context.id])
                cand.main = True
                cand.boosts += ranking.EXACT_BOOST * share
                cand.entities += (phrase,)

    def _contains_boost(self, cand: _Candidate, names: Sequence[str]) -> None:
        assert cand.context is not None
        text = cand.context.content
        hits = [n for n in names if n not in cand.entities and n in text]
        if hits:
            cand.boosts += ranking.CONTAINS_BOOST * min(len(hits), 3) / 3
            cand.entities += tuple(hits)

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
        intent = intent_of(request.query, request.task_type)
        history = intent is Intent.HISTORY or ContextType.COMMIT in (request.types or ())
        plan = await self._partitions(request, history)
        # The query is embedded on worker threads while this thread extracts entities
        # and runs the lexical side, which hold the event loop: yield once so the
        # embedding starts now rather than after them.
        query_vector = asyncio.create_task(self._query_vector(request.query))
        await asyncio.sleep(0)
        pool: dict[str, _Candidate] = {}
        try:
            # Parsing a long query is CPU work: on a worker thread the loop keeps serving.
            entities, terms, focused = await asyncio.to_thread(_parse_query, request.query)
            reserve_types = list(request.reserve_types or []) if request.reserve_limit else []
            searched: list[tuple[str, Tier, IndexFilter]] = []
            for tier, partitions in plan:
                tier_filter = IndexFilter(tiers=[tier], types=request.types)
                reserve = IndexFilter(tiers=[tier], types=reserve_types) if reserve_types else None
                for partition in partitions:
                    await self._gather(
                        partition, tier, terms, query_vector, entities, tier_filter, pool, reserve
                    )
                    searched.append((partition, tier, tier_filter))
            # Without an embedder, lexical relevance carries the whole weight.
            embedded = query_vector.done() and query_vector.result() is not None
            _fuse(pool, self.weights.lexical if embedded else 1.0)
            await self._exact_matches(exact.phrases(focused, entities), searched, pool)
        finally:
            query_vector.cancel()  # a no-op once it has finished
        if not pool:
            return []
        # Load the strongest candidates only: enough for the limit after filters and dedupe.
        for cand in pool.values():
            cand.relevance = cand.fused + min(cand.boosts, ranking.MAX_BOOST)
        budget = max(request.limit * 3, 60) * (3 if request.filters else 1)
        ranked = sorted((c for c in pool.values() if c.main), key=_by_relevance)[:budget]
        extra: list[_Candidate] = []
        if reserve_types:
            loading = {c.id for c in ranked}
            budget = max(request.reserve_limit * 3, 60) * (3 if request.filters else 1)
            extra = [
                c
                for c in sorted((c for c in pool.values() if c.reserved), key=_by_relevance)[
                    :budget
                ]
                if c.id not in loading
            ]
        found = await self.contexts.get_contexts([c.id for c in ranked + extra])
        contexts = {c.id: c for c in found}
        names = [*entities.symbols, *entities.errors]
        seen_hashes: dict[str, Tier] = {}
        # The main candidates first, exactly as a search without reserved types.
        if not request.include_superseded:
            contexts = {cid: c for cid, c in contexts.items() if c.current}
        near = await self._graph_scores(contexts.values(), entities.symbols)
        kept = self._keep(ranked, contexts, request.filters, names, seen_hashes, intent, near)
        kept_extra = self._keep(extra, contexts, request.filters, names, seen_hashes, intent, near)
        self._history_terms(kept, kept + kept_extra)
        top = max((c.relevance for c in kept), default=0.0) or 1.0
        now = utcnow()
        for cand in kept + kept_extra:
            self._score(cand, min(cand.relevance / top, 1.0), now)
        chosen = self._select(kept, request.limit)
        if reserve_types:
            wanted = set(reserve_types)
            among = [c for c in kept + kept_extra if c.context and c.context.type in wanted]
            ids = {c.id for c in chosen}
            chosen += [c for c in self._select(among, request.reserve_limit) if c.id not in ids]
        return [
            SearchHit(
                context=c.context,
                score=c.final,
                breakdown=ScoreBreakdown(
                    lexical=c.lexical,
                    dense=c.dense,
                    boosts=min(c.boosts, ranking.MAX_BOOST),
                    freshness=c.freshness,
                    usage=c.usage,
                    confidence=c.confidence,
                    final=c.final,
                    role=c.role,
                    graph=c.graph,
                    change=c.change,
                    cochange=c.cochange,
                ),
                matched_entities=tuple(dict.fromkeys(c.entities)),
            )
            for c in chosen
            if c.context is not None
        ]

    async def _graph_scores(
        self, contexts: Iterable[Context], symbols: Sequence[str]
    ) -> dict[tuple[str, str], float]:
        """(workspace, path) -> the file's rank in its code graph's walk from the files
        defining the query's symbols (1 for the best), for the candidates' workspaces."""
        if self.weights.graph <= 0 or not symbols:
            return {}
        workspaces = list(dict.fromkeys(c.workspace_id for c in contexts if c.path))
        near: dict[tuple[str, str], float] = {}
        for workspace_id in workspaces[:GRAPH_WORKSPACES]:
            graph = await self.graphs.get(workspace_id)
            for path, rank in graph.rank(graph.seeds(symbols)).items():
                near[(workspace_id, path)] = rank
        return near

    def _keep(
        self,
        ranked: list[_Candidate],
        contexts: dict[str, Context],
        filters: dict[str, object] | None,
        names: list[str],
        seen_hashes: dict[str, Tier],
        intent: Intent,
        near: dict[tuple[str, str], float],
    ) -> list[_Candidate]:
        """Candidates whose context exists and passes the filters, without cross-tier
        copies, with boosts for names their text contains, the code graph's term, the
        kind prior and the role factor."""
        kept: list[_Candidate] = []
        for cand in sorted(ranked, key=lambda c: TIER_ORDER[c.tier]):
            context = contexts.get(cand.id)
            if context is None or not self._allowed(context, filters):
                continue  # deleted since it was indexed, or filtered out
            if (
                context.content_hash in seen_hashes
                and seen_hashes[context.content_hash] != cand.tier
            ):
                continue  # the same text at a higher tier is already in
            seen_hashes.setdefault(context.content_hash, cand.tier)
            cand.context = context
            self._contains_boost(cand, names)
            if context.path:
                cand.graph = self.weights.graph * near.get((context.workspace_id, context.path), 0)
            cand.relevance = cand.fused + min(cand.boosts, ranking.MAX_BOOST) + cand.graph
            cand.relevance *= ranking.kind_prior(context, self.weights)
            if not cand.named_path:  # a file the query names is wanted, whatever it is
                cand.role = role_factor(context, context_role(context), intent)
                cand.relevance *= cand.role
            kept.append(cand)
        return kept

    def _history_terms(self, main: list[_Candidate], kept: list[_Candidate]) -> None:
        """Relevance from git history, weighed like the rest of the candidate's relevance
        (kind prior, role): change frequency (log of its file's commits, 1 for the most
        changed candidate file) and co-change (the share of the best SEED_FILES files'
        commits that also changed the candidate's file)."""
        w = self.weights
        if w.change <= 0 and w.cochange <= 0:
            return
        counts = [ranking.change_count(c.context) for c in kept if c.context]
        most = max(counts, default=0)
        partners: dict[tuple[str, str], float] = {}
        seeds: set[tuple[str, str]] = set()
        for cand in sorted(main, key=_by_relevance):
            ctx = cand.context
            if ctx is None or not ctx.path or (ctx.workspace_id, ctx.path) in seeds:
                continue
            seeds.add((ctx.workspace_id, ctx.path))
            for path, share in ranking.co_changes(ctx).items():
                key = (ctx.workspace_id, path)
                partners[key] = min(partners.get(key, 0.0) + share, 1.0)
            if len(seeds) == SEED_FILES:
                break
        for cand in kept:
            ctx = cand.context
            if ctx is None:
                continue
            if most > 0:
                cand.change = w.change * math.log1p(ranking.change_count(ctx)) / math.log1p(most)
            if ctx.path:
                cand.cochange = w.cochange * partners.get((ctx.workspace_id, ctx.path), 0.0)
            factor = ranking.kind_prior(ctx, w) * cand.role
            cand.relevance += (cand.change + cand.cochange) * factor

    def _score(self, cand: _Candidate, relevance: float, now: datetime) -> None:
        assert cand.context is not None
        w = self.weights
        cand.freshness = ranking.freshness(cand.context, now, w)
        cand.usage = ranking.usage(cand.context)
        cand.confidence = min(max(cand.context.confidence, 0.0), 1.0)
        cand.final = ranking.final_score(w, relevance, cand.freshness, cand.usage, cand.confidence)
        if cand.context.stale is not None:
            cand.final *= ranking.STALE_FACTOR

    def _select(self, kept: list[_Candidate], limit: int) -> list[_Candidate]:
        """The best `limit` by final score with MMR for diversity, grouped by file."""
        ordered = sorted(kept, key=lambda c: (-c.final, TIER_ORDER[c.tier], c.id))
        ordered = ordered[: limit * MMR_POOL]
        similarity = jaccard_matrix(line_sketch([c.context.content for c in ordered if c.context]))
        finals = np.asarray([c.final for c in ordered], dtype=np.float64)
        diverse = [ordered[i] for i in mmr(finals, similarity, self.weights.mmr_lambda, limit)]
        return group_by_file(
            diverse,
            key=lambda c: (
                f"{c.context.workspace_id}:{c.context.path}"
                if c.context and c.context.path
                else None
            ),
            score=lambda c: c.final,
            spread=FILE_SPREAD,
        )


def _by_relevance(cand: _Candidate) -> tuple[float, int, str]:
    return (-cand.relevance, TIER_ORDER[cand.tier], cand.id)
