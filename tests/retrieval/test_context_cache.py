"""The retriever's cache of parsed contexts: reused between searches, never stale
after the index learns of a change, bounded, and expiring for other replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from axon.config import Settings
from axon.models import utcnow
from axon.ports import SearchRequest
from axon.retrieval.context_cache import ContextCache
from axon.retrieval.retriever import HybridRetriever
from axon.retrieval.search_index import lexical_docs
from axon.services import Services, build_services
from axon.stores.embedded_search.db import GENERATION_TTL_SECONDS, SearchDB
from axon.stores.embedded_search.lexical import NumpyLexicalIndex
from axon.stores.sqlite import SQLiteDocumentStore
from tests.clock import ManualClock
from tests.retrieval.conftest import add_workspace, make_context, store_and_index

WS = "cachews"


def cache_of(services: Services) -> ContextCache:
    assert isinstance(services.retriever, HybridRetriever)
    return services.retriever.contexts


async def top_content(services: Services, query: str) -> list[str]:
    hits = await services.retriever.search(SearchRequest(query=query, workspace_id=WS, limit=5))
    return [h.context.content for h in hits]


@pytest.fixture
async def cached(lexical_settings: Settings) -> AsyncIterator[Services]:
    services = await build_services(
        lexical_settings.model_copy(
            update={"context_cache_seconds": 60, "cache_ttl_query_results": 0}
        )
    )
    try:
        await add_workspace(services, WS)
        await store_and_index(
            services,
            [
                make_context(WS, "src/a.py", "reader", "def reader():\n    return parse_frame()\n"),
                make_context(WS, "src/b.py", "writer", "def writer():\n    emit_frame()\n"),
            ],
        )
        yield services
    finally:
        await services.close()


async def test_searches_reuse_parsed_contexts(cached: Services) -> None:
    cache = cache_of(cached)
    assert len(cache) == 0
    await top_content(cached, "parse_frame reader")
    assert len(cache) == 2
    first = await cache.get_contexts(["cachews-src_a.py"])
    again = await cache.get_contexts(["cachews-src_a.py", "missing"])
    assert first[0] is again[0] and len(again) == 1  # the same object, not re-read


async def test_a_rewritten_context_is_never_served_stale(cached: Services) -> None:
    assert "parse_frame" in (await top_content(cached, "reader parse_frame"))[0]
    changed = make_context(WS, "src/a.py", "reader", "def reader():\n    return decode_frame()\n")
    await store_and_index(cached, [changed])
    assert "decode_frame" in (await top_content(cached, "reader decode_frame"))[0]


async def test_a_deleted_context_is_never_served(cached: Services) -> None:
    assert await top_content(cached, "writer emit_frame")
    await cached.store.delete_contexts(["cachews-src_b.py"])
    await cached.search_index.remove(["cachews-src_b.py"])
    assert all("emit_frame" not in text for text in await top_content(cached, "emit_frame"))
    assert await cache_of(cached).get_contexts(["cachews-src_b.py"]) == []


async def test_usage_recorded_here_updates_the_cached_copies(cached: Services) -> None:
    await top_content(cached, "reader parse_frame")
    cache = cache_of(cached)
    at = utcnow()
    await cached.store.record_usage({"cachews-src_a.py": 3})
    cache.used({"cachews-src_a.py": 3, "not-cached": 1}, at)
    [ctx] = await cache.get_contexts(["cachews-src_a.py"])
    assert (ctx.usage_count, ctx.updated_at) == (3, at)
    [stored] = await cached.store.get_contexts(["cachews-src_a.py"])
    assert stored.usage_count == ctx.usage_count


async def test_another_process_change_is_picked_up_from_the_change_log(
    tmp_path: Path,
) -> None:
    store = SQLiteDocumentStore(tmp_path / "axon.db")
    await store.open()
    db_a, db_b = SearchDB(tmp_path / "search.db"), SearchDB(tmp_path / "search.db")
    await db_a.open()
    await db_b.open()
    try:
        writer, reader = NumpyLexicalIndex(db_a), NumpyLexicalIndex(db_b)
        cache = ContextCache(store, ttl=60)
        reader.listen(cache.changed)
        ctx = make_context(WS, "src/a.py", "reader", "def reader():\n    old_name()\n")
        await store.put_contexts([ctx])
        await writer.upsert(WS, lexical_docs([ctx]))
        assert [c for c, _ in await reader.search(WS, ["reader"], 5, None)] == [ctx.id]
        await cache.get_contexts([ctx.id])
        assert len(cache) == 1

        renamed = ctx.model_copy(update={"content": "def reader():\n    new_name()\n"})
        await store.put_contexts([renamed])
        await writer.upsert(WS, lexical_docs([renamed]))
        await asyncio.sleep(GENERATION_TTL_SECONDS + 0.1)  # the reader's generation cache
        await reader.search(WS, ["reader"], 5, None)  # the reader applies the change log
        [fresh] = await cache.get_contexts([ctx.id])
        assert "new_name" in fresh.content
    finally:
        await db_a.close()
        await db_b.close()
        await store.close()


async def test_entries_expire_and_the_cache_stays_bounded(tmp_path: Path) -> None:
    store = SQLiteDocumentStore(tmp_path / "axon.db")
    await store.open()
    try:
        contexts = [
            make_context(WS, f"src/m{i}.py", f"f{i}", f"def f{i}(): pass\n") for i in range(5)
        ]
        await store.put_contexts(contexts)
        ids = [c.id for c in contexts]
        small = ContextCache(store, ttl=60, size=3)
        assert [c.id for c in await small.get_contexts(ids)] == ids
        assert len(small) == 3  # the least recently used went first

        clock = ManualClock()
        short = ContextCache(store, ttl=0.05, clock=clock)
        [before] = await short.get_contexts(ids[:1])
        await store.record_usage({ids[0]: 2})  # another replica's write: no local signal
        clock.advance(0.04)
        [cached_copy] = await short.get_contexts(ids[:1])
        assert cached_copy.usage_count == before.usage_count
        clock.advance(0.02)
        [after] = await short.get_contexts(ids[:1])
        assert after.usage_count == before.usage_count + 2

        off = ContextCache(store, ttl=0)
        await off.get_contexts(ids)
        assert len(off) == 0
    finally:
        await store.close()


async def test_a_read_overtaken_by_a_change_is_not_kept(tmp_path: Path) -> None:
    store = SQLiteDocumentStore(tmp_path / "axon.db")
    await store.open()
    try:
        ctx = make_context(WS, "src/a.py", "a", "def a(): pass\n")
        await store.put_contexts([ctx])
        cache = ContextCache(store, ttl=60)
        reading = asyncio.create_task(cache.get_contexts([ctx.id]))
        await asyncio.sleep(0)  # the read is under way
        cache.changed([ctx.id])
        assert [c.id for c in await reading] == [ctx.id]
        assert len(cache) == 0  # what it read may predate the change
        cache.changed(None)
    finally:
        await store.close()
