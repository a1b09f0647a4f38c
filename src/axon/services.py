"""The service container: builds every adapter from Settings, in one place.

The API, the worker and the CLI all get their adapters from `Services`, so
choosing between the embedded default and a production backend happens here
and nowhere else.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from threadpoolctl import threadpool_limits

from axon.config import Settings
from axon.embeddings import NoneEmbedder, build_embedder
from axon.errors import AxonError
from axon.evolution.consolidate import Consolidator
from axon.evolution.conversation import ConversationMemory
from axon.evolution.promote import Promoter
from axon.evolution.supersede import Supersession
from axon.jobs import JobQueue
from axon.llm import LLM, NoneLLM
from axon.llm.accounting import UsageLedger
from axon.llm.pricing import PriceTable
from axon.pipeline import Pipeline
from axon.ports import (
    Cache,
    DocumentStore,
    Embedder,
    LexicalIndex,
    RateLimiter,
    Retriever,
    SearchIndex,
    VectorIndex,
)
from axon.retrieval.context_cache import ContextCache
from axon.retrieval.query_cache import CachedQueryEmbedder, CachedRetriever
from axon.retrieval.ranking import RankingWeights
from axon.retrieval.retriever import HybridRetriever
from axon.retrieval.search_index import HybridSearchIndex
from axon.security.keys import KeyVerifier
from axon.stores.embedded_search.db import SearchDB
from axon.stores.embedded_search.embedding_cache import CachedEmbedder
from axon.stores.embedded_search.lexical import NumpyLexicalIndex
from axon.stores.embedded_search.vectors import NumpyVectorIndex
from axon.stores.memory_cache import MemoryCache
from axon.stores.memory_queue import InProcessJobQueue
from axon.stores.memory_ratelimit import InProcessRateLimiter

if TYPE_CHECKING:
    from axon.startup import StartupWork

ServiceStatus = Literal["connected", "disconnected", "embedded"]
BACKENDS = ("mongodb", "redis", "qdrant")
# The Python modules each production backend needs; they come with axon[production].
DRIVERS: dict[str, tuple[str, ...]] = {
    "MONGODB_URI": ("pymongo",),
    "REDIS_URL": ("redis", "arq"),
    "QDRANT_URL": ("qdrant_client",),
}


class MissingDriver(AxonError):
    status = 503
    code = "DRIVER_MISSING"


def require_drivers(settings: Settings) -> None:
    """A configured backend whose driver is not installed fails in one line naming the
    extra to install, instead of an import traceback from deep inside start-up."""
    configured = {
        "MONGODB_URI": settings.mongodb_uri,
        "REDIS_URL": settings.redis_url,
        "QDRANT_URL": settings.qdrant_url,
    }
    for variable, modules in DRIVERS.items():
        if not configured[variable]:
            continue
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError:
                raise MissingDriver(
                    f"{variable} is set, but its driver ({module}) is not installed: "
                    "pip install 'axon[production]'"
                ) from None


@dataclass
class HealthProbe:
    """Caches dependency pings briefly so probes stay cheap under load."""

    checks: dict[str, Callable[[], Awaitable[bool]]]
    ttl: float
    timeout: float = 1.0
    _cached: dict[str, ServiceStatus] = field(default_factory=dict)
    _at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _check(self, check: Callable[[], Awaitable[bool]]) -> ServiceStatus:
        try:
            ok = await asyncio.wait_for(check(), self.timeout)
        except Exception:
            ok = False
        return "connected" if ok else "disconnected"

    async def statuses(self) -> dict[str, ServiceStatus]:
        async with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                names = list(self.checks)
                results = await asyncio.gather(*(self._check(self.checks[n]) for n in names))
                self._cached = dict(zip(names, results, strict=True))
                self._at = time.monotonic()
            return {name: self._cached.get(name, "embedded") for name in BACKENDS}


@dataclass
class Services:
    settings: Settings
    store: DocumentStore
    health: HealthProbe
    llm: LLM
    rate_limiter: RateLimiter = field(default_factory=InProcessRateLimiter)
    embedder: Embedder = field(default_factory=NoneEmbedder)
    cache: Cache = field(default_factory=MemoryCache)
    # Extra shutdown steps of production backends (connection pools), run last.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    jobs: JobQueue = field(init=False)
    keys: KeyVerifier = field(init=False)
    # Set by build_services (build_search): they need the opened store.
    search_index: SearchIndex = field(init=False)
    retriever: Retriever = field(init=False)
    pipeline: Pipeline = field(init=False)
    llm_usage: UsageLedger = field(init=False)  # per-workspace LLM token and cost totals
    supersession: Supersession = field(init=False)  # contexts replaced by newer ones
    consolidator: Consolidator = field(init=False)  # near-duplicate memories merged
    promoter: Promoter = field(init=False)  # recurring conventions made global
    conversations: ConversationMemory = field(init=False)  # earlier turns, by conversationId
    started_at: float = field(default_factory=time.monotonic)
    # A server's background warm-up (axon.startup); None for the CLI and tests.
    startup: StartupWork | None = None

    def __post_init__(self) -> None:
        self.jobs = InProcessJobQueue(self)
        self.keys = KeyVerifier(self.store, self.settings.auth_cache_seconds)
        self.llm_usage = UsageLedger(self.store, PriceTable(self.settings.llm_prices))
        self.pipeline = Pipeline(self)

    async def close(self) -> None:
        if self.startup is not None:
            await self.startup.stop()
        await self.pipeline.drain()
        await self.jobs.stop()
        await self.rate_limiter.close()
        await self.llm_usage.flush()
        await self.store.close()
        for closer in self.closers:
            await closer()


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
    """Wire search: the embedded adapters (numpy BM25 and numpy vectors over one SQLite
    file, `search.db`) unless `indexes` replaces them (e.g. Qdrant's); `search.db`
    always keeps the embedding cache. `cache` (Redis or in-process) holds query
    embeddings and search results."""
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


async def build_services(settings: Settings) -> Services:
    """Create and open every adapter that `settings` selects."""
    from axon.llm.factory import build_llm
    from axon.stores.sqlite import SQLiteDocumentStore

    require_drivers(settings)
    embedder = build_embedder(settings)  # cheap: the model loads on first use
    checks: dict[str, Callable[[], Awaitable[bool]]] = {}
    store: DocumentStore
    if settings.mongodb_uri:
        from axon.stores.mongo import MongoDocumentStore

        store = MongoDocumentStore(
            settings.mongodb_uri,
            max_pool_size=settings.mongodb_max_pool_size,
            min_pool_size=settings.mongodb_min_pool_size,
            workspace_cache_seconds=settings.workspace_cache_seconds,
        )
        checks["mongodb"] = store.ping
    else:
        store = SQLiteDocumentStore(settings.sqlite_path)
    await store.open()
    services = Services(
        settings=settings,
        store=store,
        health=HealthProbe(checks=checks, ttl=settings.health_cache_seconds),
        llm=NoneLLM(),
        embedder=embedder,
    )
    try:
        # Redis first: search keeps query embeddings and results in the shared cache.
        if settings.redis_url:
            await _use_redis(services, settings.redis_url, checks)
        indexes = await _open_qdrant(services, checks) if settings.qdrant_url else None
        search = await build_search(settings, store, embedder, indexes, services.cache)
        services.search_index, services.retriever = search.index, search.search
        services.supersession = Supersession(
            store, search.index, search.search, embedder, settings.supersede_similarity
        )
        services.consolidator = Consolidator(
            store, search.index, search.search, embedder, settings.consolidate_similarity
        )
        services.promoter = Promoter(
            store,
            search.index,
            embedder,
            settings.promote_similarity,
            settings.promote_min_workspaces,
        )
        services.conversations = ConversationMemory(store, search.index, services.supersession)
        services.closers.append(search.close)
        gateway = build_llm(settings, services.llm_usage, services.cache)
        services.llm = gateway
        services.closers.append(gateway.aclose)
        await services.jobs.start()
    except BaseException:
        await services.close()  # a backend that failed to open leaves nothing running
        raise
    return services


async def _open_qdrant(
    services: Services, checks: dict[str, Callable[[], Awaitable[bool]]]
) -> tuple[LexicalIndex, VectorIndex]:
    """Lexical and vector search in Qdrant; an unreachable QDRANT_URL fails here."""
    from axon.stores.qdrant import QdrantCollection, QdrantLexicalIndex, QdrantVectorIndex

    settings = services.settings
    assert settings.qdrant_url is not None
    # The dense size is fixed when the collection is created; 384 (MiniLM) without an embedder.
    dimension = services.embedder.dimension or settings.embedding_dimension or 384
    collection = QdrantCollection(settings.qdrant_url, settings.qdrant_collection, dimension)
    services.closers.append(collection.close)
    await collection.open()
    checks["qdrant"] = collection.ping
    return QdrantLexicalIndex(collection), QdrantVectorIndex(collection)


async def _use_redis(
    services: Services, url: str, checks: dict[str, Callable[[], Awaitable[bool]]]
) -> None:
    """Cache, rate limits and the job queue on Redis; an unreachable REDIS_URL fails here."""
    from axon.stores.redis_cache import RedisCache
    from axon.stores.redis_client import RedisGuard, close_redis, open_redis, redis_client
    from axon.stores.redis_queue import RedisJobQueue
    from axon.stores.redis_ratelimit import RedisRateLimiter

    timeout = services.settings.redis_timeout
    client = await open_redis(url, services.settings.redis_max_connections, timeout)
    # Probes use their own connection so a busy pool never reads as "disconnected".
    probe = redis_client(url, 2, timeout=timeout)
    guard = RedisGuard(timeout=timeout)

    async def ping() -> bool:
        return bool(await probe.ping())

    checks["redis"] = ping
    services.cache = RedisCache(client, guard)
    services.rate_limiter = RedisRateLimiter(client, guard, fallback=services.rate_limiter)
    services.jobs = RedisJobQueue(services, client, timeout=2 * timeout)
    services.closers += [probe.aclose, functools.partial(close_redis, client)]
