"""MongoDB specifics beyond the contract: the runbook's shell queries run on the stored
data (here through pymongo directly), indexes, pool settings, and atomic file swaps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic_core import PydanticSerializationError
from pymongo import AsyncMongoClient

from axon.errors import ServiceUnavailable
from axon.models import (
    Context,
    ContextType,
    Interaction,
    Workspace,
    WorkspaceType,
    content_hash,
    utcnow,
)
from axon.ports import ContextFilter, FileState
from axon.stores.mongo import MongoDocumentStore
from tests.servers import RunningServer, free_port


def _ctx(cid: str, *, path: str = "a.py", gen: int = 0, **kw: object) -> Context:
    text = f"gen {gen} {cid}"
    return Context(
        id=cid,
        workspace_id="ws",
        type=ContextType.SYMBOL,
        path=path,
        content=text,
        content_hash=content_hash(text),
        metadata={"gen": gen},
        **kw,
    )


@pytest.fixture
def mongo_uri(mongo_server: RunningServer) -> str:
    return f"mongodb://127.0.0.1:{mongo_server.port}/runbook_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def store(mongo_uri: str) -> AsyncIterator[MongoDocumentStore]:
    adapter = MongoDocumentStore(mongo_uri, max_pool_size=7, min_pool_size=1)
    await adapter.open()
    try:
        yield adapter
    finally:
        await adapter.close()


@pytest.fixture
async def raw(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, object]]]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


async def test_database_comes_from_the_uri_path(store: MongoDocumentStore, mongo_uri: str) -> None:
    assert store.database_name == mongo_uri.rsplit("/", 1)[1]
    bare = MongoDocumentStore(mongo_uri.rsplit("/", 1)[0])
    assert bare.database_name == "axon"
    await bare.close()


async def test_pool_sizes_and_retryable_writes_reach_the_driver(mongo_uri: str) -> None:
    adapter = MongoDocumentStore(mongo_uri, max_pool_size=7, min_pool_size=2)
    opts = adapter._client.options
    assert (opts.pool_options.max_pool_size, opts.pool_options.min_pool_size) == (7, 2)
    assert opts.retry_writes is True
    await adapter.close()


async def test_documents_are_camel_case_with_bson_dates(
    store: MongoDocumentStore, raw: AsyncMongoClient[dict[str, object]]
) -> None:
    await store.put_contexts([_ctx("c1")])
    doc = await raw.get_default_database().contexts.find_one({"_id": "c1"})
    assert doc is not None
    assert doc["workspaceId"] == "ws" and doc["tier"] == "workspace" and doc["usageCount"] == 0
    assert isinstance(doc["createdAt"], datetime) and "id" not in doc


async def test_runbook_indexes_exist_and_open_is_idempotent(
    store: MongoDocumentStore, raw: AsyncMongoClient[dict[str, object]]
) -> None:
    await store.open()  # a second replica starting up
    db = raw.get_default_database()
    keys = [list(i["key"].items()) async for i in await db.contexts.list_indexes()]
    assert [("workspaceId", 1), ("tier", 1)] in keys
    assert [("createdAt", -1)] in keys
    ts_keys = [list(i["key"].items()) async for i in await db.interactions.list_indexes()]
    assert [("timestamp", 1)] in ts_keys


async def test_runbook_retention_queries_on_stored_data(
    store: MongoDocumentStore, raw: AsyncMongoClient[dict[str, object]]
) -> None:
    old = utcnow() - timedelta(days=100)
    await store.put_contexts(
        [
            _ctx("old-unused", created_at=old, usage_count=2),
            _ctx("old-used", created_at=old, usage_count=7),
            _ctx("new-unused", usage_count=0),
        ]
    )
    for iid, age in (("i-old", 45), ("i-new", 1)):
        await store.add_interaction(
            Interaction(
                id=iid, workspace_id="ws", prompt="p", timestamp=utcnow() - timedelta(days=age)
            )
        )
    db = raw.get_default_database()
    # db.contexts.countDocuments()
    assert await db.contexts.count_documents({}) == 3
    # const cutoffDate = new Date(Date.now() - 90 days); deleteMany({createdAt<, usageCount<5})
    cutoff = datetime.now(UTC) - timedelta(days=90)
    deleted = await db.contexts.delete_many(
        {"createdAt": {"$lt": cutoff}, "usageCount": {"$lt": 5}}
    )
    assert deleted.deleted_count == 1
    assert await store.get_context("old-unused") is None
    assert await store.count_contexts(ContextFilter()) == 2
    # interactions: deleteMany({timestamp: {$lt: 30 days ago}})
    cutoff = datetime.now(UTC) - timedelta(days=30)
    deleted = await db.interactions.delete_many({"timestamp": {"$lt": cutoff}})
    assert deleted.deleted_count == 1
    assert await store.get_interaction("i-old") is None
    assert await store.get_interaction("i-new") is not None


async def test_replace_file_readers_never_see_a_half_state(store: MongoDocumentStore) -> None:
    """Each generation of a.py has a different set of ids; a reader must always see exactly
    one whole generation."""

    def generation(gen: int) -> list[Context]:
        count = 3 + gen % 4
        return [_ctx(f"a:{gen % 2}:{i}", gen=gen) for i in range(count)]

    await store.replace_file("ws", FileState("a.py", "h0", 1, 0), generation(0))
    done = asyncio.Event()
    seen: list[set[int]] = []

    async def writer() -> None:
        for gen in range(1, 25):
            await store.replace_file("ws", FileState("a.py", f"h{gen}", 1, gen), generation(gen))
        done.set()

    async def reader() -> None:
        while not done.is_set():
            page = await store.list_contexts(ContextFilter(workspace_id="ws", path="a.py"), 100)
            gens = {int(c.metadata["gen"]) for c in page.items}
            seen.append(gens)
            assert len(gens) == 1, f"mixed generations {gens}"
            (gen,) = gens
            assert {c.id for c in page.items} == {c.id for c in generation(gen)}

    await asyncio.gather(writer(), reader(), reader())
    assert len(seen) > 5


async def test_failed_transaction_leaves_the_old_file(store: MongoDocumentStore) -> None:
    await store.replace_file("ws", FileState("a.py", "h1", 1, 1), [_ctx("a:1")])
    # Fails to serialise inside the transaction, after the stale a:1 was deleted.
    bad = _ctx("a:2").model_copy(update={"metadata": {"bad": object()}})
    with pytest.raises(PydanticSerializationError):
        await store.replace_file("ws", FileState("a.py", "h2", 1, 2), [_ctx("a:3"), bad])
    assert [c.id async for c in store.iter_contexts(ContextFilter(path="a.py"))] == ["a:1"]
    assert (await store.get_file_states("ws"))["a.py"].content_hash == "h1"


async def test_unreachable_server_is_a_clear_error() -> None:
    adapter = MongoDocumentStore(
        f"mongodb://127.0.0.1:{free_port()}/x", server_selection_timeout=0.3
    )
    with pytest.raises(ServiceUnavailable, match="MongoDB at MONGODB_URI is unreachable") as exc:
        await adapter.open()
    # The driver's reason, without its topology dump.
    assert "127.0.0.1" in exc.value.message and "Topology" not in exc.value.message
    assert len(exc.value.message) < 200, exc.value.message
    assert await adapter.ping() is False
    await adapter.close()


async def test_workspace_copies_follow_own_writes_at_once_and_others_within_the_ttl(
    mongo_uri: str,
) -> None:
    replica_a = MongoDocumentStore(mongo_uri, workspace_cache_seconds=0.5)
    replica_b = MongoDocumentStore(mongo_uri, workspace_cache_seconds=0.5)
    for replica in (replica_a, replica_b):
        await replica.open()
    try:
        await replica_a.create_workspace(Workspace(id="w", name="first", type=WorkspaceType.CODING))
        assert (seen := await replica_a.get_workspace("w")) is not None and seen.name == "first"
        # Another replica's change: A answers from its copy until the TTL runs out.
        await replica_b.update_workspace("w", {"name": "second"})
        assert (seen := await replica_a.get_workspace("w")) is not None and seen.name == "first"
        await asyncio.sleep(0.6)
        assert (seen := await replica_a.get_workspace("w")) is not None and seen.name == "second"
        # Its own changes show at once.
        await replica_a.update_workspace("w", {"name": "third"})
        assert (seen := await replica_a.get_workspace("w")) is not None and seen.name == "third"
        assert await replica_a.delete_workspace("w")
        assert await replica_a.get_workspace("w") is None
    finally:
        for replica in (replica_a, replica_b):
            await replica.close()
