"""Shared caches in front of search, on a real redis-server: query embeddings and whole
results, each under its own kind and TTL; an index write makes cached results unreachable."""

from __future__ import annotations

import numpy as np
import pytest
from redis.asyncio import Redis

from axon.config import Settings, load_settings
from axon.errors import InvalidInput, NotFound
from axon.ports import SearchRequest
from axon.retrieval.query_cache import CachedQueryEmbedder, CachedRetriever
from axon.services import build_search, build_services
from axon.stores.redis_cache import RedisCache
from axon.stores.redis_client import RedisGuard
from tests.retrieval.conftest import FILES, add_workspace, make_context


async def _keys(redis: Redis, kind: str) -> list[str]:
    return sorted([k.decode() async for k in redis.scan_iter(f"axon:cache:{kind}:*")])


@pytest.mark.needs_model
async def test_query_vectors_are_shared_through_the_cache(settings: Settings, redis: Redis) -> None:
    services = await build_services(load_settings(embedder="local"))
    try:
        cache = RedisCache(redis, RedisGuard())
        first = CachedQueryEmbedder(services.embedder, cache, ttl_seconds=600)
        vectors = await first.embed(["parse the config file", "open a socket"])
        keys = await _keys(redis, "embeddings")
        assert len(keys) == 2
        assert 590_000 < await redis.pttl(keys[0]) <= 600_000
        # Another replica finds them: same vectors, equal to the model's own.
        other = CachedQueryEmbedder(services.embedder, cache, ttl_seconds=600)
        again = await other.embed(["open a socket", "parse the config file", "new text"])
        assert np.array_equal(again[0], vectors[1]) and np.array_equal(again[1], vectors[0])
        direct = await services.embedder.embed(["new text"])
        assert np.allclose(again[2], direct[0], atol=1e-6)
        assert len(await _keys(redis, "embeddings")) == 3
    finally:
        await services.close()


async def test_results_come_from_the_cache_until_the_index_changes(
    settings: Settings, redis: Redis
) -> None:
    # Without the context cache, a search reads every context from the store afresh.
    services = await build_services(load_settings(embedder="none", context_cache_seconds=0))
    search = await build_search(services.settings, services.store, None)
    try:
        await add_workspace(services, "shop")
        contexts = [make_context("shop", path, sym, text) for path, sym, text in FILES]
        await services.store.put_contexts(contexts)
        await search.index.index(contexts)
        cached = CachedRetriever(
            search.retriever,
            RedisCache(redis, RedisGuard()),
            search.db,
            services.store,
            ttl=30,
        )
        request = SearchRequest(query="apply a discount code", workspace_id="shop")
        first = await cached.search(request)
        assert first and len(await _keys(redis, "query-results")) == 1
        assert 0 < await redis.pttl((await _keys(redis, "query-results"))[0]) <= 30_000

        # Usage recorded in the store: a fresh search ranks with it; the cached ranking
        # does not (it was not searched again), yet its contexts are read afresh.
        top = first[0].context
        await services.store.record_usage({top.id: 40})
        fresh = await search.retriever.search(request)
        assert fresh[0].context.id == top.id and fresh[0].breakdown.usage > 0
        again = await cached.search(request)
        assert [h.context.id for h in again] == [h.context.id for h in first]
        assert again[0].breakdown == first[0].breakdown and again[0].breakdown.usage == 0
        assert again[0].context.usage_count == 40

        # An index write moves the generation: the cached ranking is unreachable.
        await search.index.remove([top.id])
        after_write = await cached.search(request)
        assert top.id not in [h.context.id for h in after_write]
        assert len(await _keys(redis, "query-results")) == 2

        # A context deleted behind the index's back is not served from the cache.
        second = after_write[0].context
        await cached.search(request)
        await services.store.delete_contexts([second.id])
        assert second.id not in [h.context.id for h in await cached.search(request)]

        # Errors are never cached.
        for bad in (
            SearchRequest(query=" ", workspace_id="shop"),
            SearchRequest(query="discount", workspace_id="nowhere"),
        ):
            with pytest.raises((InvalidInput, NotFound)):
                await cached.search(bad)
        assert len(await _keys(redis, "query-results")) == 2
    finally:
        await search.close()
        await services.close()
