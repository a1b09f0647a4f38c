"""Retrieval: hybrid lexical + dense search with entity boosts, re-ranking and tiers.

`build_search` wires the embedded adapters (numpy BM25 and numpy vectors over one
SQLite file, `search.db`); `Services` exposes the results as `search_index` and
`retriever`.
"""

from __future__ import annotations

from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from axon.config import Settings
from axon.kinds import MAX_LIMIT, MAX_QUERY_CHARS
from axon.ports import Cache, DocumentStore, Embedder, LexicalIndex, Retriever, VectorIndex
from axon.retrieval._db import SearchDB
from axon.retrieval.context_cache import ContextCache
from axon.retrieval.embedding_cache import CachedEmbedder
from axon.retrieval.lexical import NumpyLexicalIndex
from axon.retrieval.partitions import partition_of
from axon.retrieval.query_cache import CachedQueryEmbedder, CachedRetriever
from axon.retrieval.ranking import RankingWeights
from axon.retrieval.retriever import HybridRetriever
from axon.retrieval.search_index import HybridSearchIndex
from axon.retrieval.vectors import NumpyVectorIndex


@dataclass
class SearchComponents:
    db: SearchDB
    index: HybridSearchIndex
    retriever: HybridRetriever
    # What callers search through: the retriever behind the shared result cache when
    # that is on (embedded indexes only: see query_cache), else the retriever itself.
    search: Retriever

    async def close(self) -> None:
        await self.db.close()


async def build_search(
    settings: Settings,
    store: DocumentStore,
    embedder: Embedder | None,
    indexes: tuple[LexicalIndex, VectorIndex] | None = None,
    cache: Cache | None = None,
) -> SearchComponents:
    """`indexes` replaces the embedded lexical and vector indexes (e.g. Qdrant's);
    `cache` (Redis or in-process) holds query embeddings and search results."""
    # Searches are single matrix-vector products and small matrices: OpenBLAS's own
    # threads make them slower (waking them costs more than the work, worst on busy
    # cores), and concurrent requests already use the cores. One thread per call.
    threadpool_limits(1, user_api="blas")
    db = SearchDB(settings.data_dir / "search.db")
    await db.open()
    lexical, vectors = indexes or (
        NumpyLexicalIndex(db, settings.data_dir / "lexical"),
        NumpyVectorIndex(db, settings.data_dir / "vectors"),
    )
    cached = CachedEmbedder(embedder, db) if embedder is not None else None
    index = HybridSearchIndex(store, lexical, vectors, cached)
    contexts = ContextCache(store, settings.context_cache_seconds, settings.context_cache_size)
    if isinstance(lexical, NumpyLexicalIndex):
        lexical.listen(contexts.changed)
    query_embedder = embedder
    if cache is not None and embedder is not None and settings.cache_ttl_embeddings > 0:
        query_embedder = CachedQueryEmbedder(embedder, cache, settings.cache_ttl_embeddings)
    retriever = HybridRetriever(
        store, lexical, vectors, query_embedder, RankingWeights.from_settings(settings), contexts
    )
    search: Retriever = retriever
    if cache is not None and indexes is None and settings.cache_ttl_query_results > 0:
        search = CachedRetriever(retriever, cache, db, contexts, settings.cache_ttl_query_results)
    return SearchComponents(db, index, retriever, search)


__all__ = [
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "HybridRetriever",
    "HybridSearchIndex",
    "RankingWeights",
    "SearchComponents",
    "build_search",
    "partition_of",
]
