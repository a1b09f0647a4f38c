"""The lexical index's arrays follow writes without a rebuild, in this process and others."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from axon.models import ContextType, Tier
from axon.ports import IndexFilter, LexicalDoc
from axon.retrieval.partitions import partition_for
from axon.retrieval.query import query_terms
from axon.stores.embedded_search.db import GENERATION_TTL_SECONDS, SearchDB
from axon.stores.embedded_search.lexical import DELTA_MIN, SNAPSHOT_MIN_DOCS, NumpyLexicalIndex

WS = "ws"
HYBRID = partition_for(WS, Tier.HYBRID)
WORDS = ["parser", "cache", "socket", "render", "schema", "token", "queue", "router"]


def doc(i: int, *extra: str, tier: Tier = Tier.WORKSPACE, symbol: str | None = None) -> LexicalDoc:
    terms = {WORDS[i % len(WORDS)]: 2, WORDS[(i * 3 + 1) % len(WORDS)]: 1, f"unique{i}": 1}
    terms |= dict.fromkeys(extra, 3)
    return LexicalDoc(
        id=f"c{i}",
        workspace_id=WS,
        tier=tier,
        type=ContextType.SYMBOL if symbol else ContextType.FILE,
        path=f"src/mod{i}.py",
        symbol=symbol,
        content_hash=f"h{i}-{'-'.join(extra)}",
        terms=terms,
    )


async def ids(index: NumpyLexicalIndex, query: str, partition: str = WS) -> list[str]:
    return [cid for cid, _ in await index.search(partition, query_terms(query), 50, None)]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SearchDB]:
    opened = SearchDB(tmp_path / "search.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_writes_after_a_search_update_the_arrays_in_place(db: SearchDB) -> None:
    index = NumpyLexicalIndex(db)
    await index.upsert(WS, [doc(i) for i in range(40)])
    assert await ids(index, "unique7") == ["c7"]
    base = index._segments[WS].base

    await index.upsert(WS, [doc(100, "zeppelin"), doc(7, "hovercraft")])  # new + replaced
    await index.delete(["c3"])
    assert await ids(index, "zeppelin") == ["c100"]
    assert await ids(index, "hovercraft") == ["c7"]
    assert await ids(index, "unique7") == ["c7"]  # still one hit: the old row is masked
    assert await ids(index, "unique3") == []
    assert "c3" not in await ids(index, "cache parser socket render schema token queue")
    assert index._segments[WS].base is base  # updated, not rebuilt

    # The same answers as arrays built from scratch on the same database.
    fresh = NumpyLexicalIndex(db)
    for query in ("zeppelin", "hovercraft unique7", "unique3", "unique100 unique8"):
        assert await ids(index, query) == await ids(fresh, query), query
    everything = set(await ids(fresh, "cache parser socket render schema token queue router"))
    assert set(await ids(index, "cache parser socket render schema token queue router")) == (
        everything
    )


async def test_entity_matches_follow_updates(db: SearchDB) -> None:
    index = NumpyLexicalIndex(db)
    await index.upsert(WS, [doc(1, symbol="Loader.load"), doc(2)])
    assert await index.match_entities(WS, ["load"], ["mod2.py"], None) == {
        "c1": ["load"],
        "c2": ["mod2.py"],
    }
    await index.delete(["c1"])
    await index.upsert(WS, [doc(5, symbol="Saver.load")])
    found = await index.match_entities(WS, ["load"], ["mod2.py"], None)
    assert found == {"c5": ["load"], "c2": ["mod2.py"]}
    only_symbols = IndexFilter(types=[ContextType.SYMBOL])
    assert await index.match_entities(WS, ["load"], ["mod2.py"], only_symbols) == {"c5": ["load"]}


async def test_a_tier_change_moves_a_context_between_partitions(db: SearchDB) -> None:
    index = NumpyLexicalIndex(db)
    await index.upsert(WS, [doc(i) for i in range(10)])
    await index.upsert(HYBRID, [doc(20, tier=Tier.HYBRID)])
    assert await ids(index, "unique4") == ["c4"]
    assert await ids(index, "unique20", HYBRID) == ["c20"]

    await index.upsert(HYBRID, [doc(4, tier=Tier.HYBRID)])
    assert await ids(index, "unique4") == []
    assert await ids(index, "unique4", HYBRID) == ["c4"]


async def test_another_process_catches_up_from_the_change_log(db: SearchDB, tmp_path: Path) -> None:
    writer = NumpyLexicalIndex(db)
    await writer.upsert(WS, [doc(i) for i in range(30)])
    other_db = SearchDB(tmp_path / "search.db")
    await other_db.open()
    try:
        reader = NumpyLexicalIndex(other_db)
        assert await ids(reader, "unique5") == ["c5"]
        base = reader._segments[WS].base

        await writer.upsert(WS, [doc(31, "monorail")])
        await writer.delete(["c5"])
        await asyncio.sleep(GENERATION_TTL_SECONDS + 0.1)  # the reader's generation cache
        assert await ids(reader, "monorail") == ["c31"]
        assert await ids(reader, "unique5") == []
        assert reader._segments[WS].base is base

        await writer.delete_workspace(WS)
        await asyncio.sleep(GENERATION_TTL_SECONDS + 0.1)
        assert await ids(reader, "cache parser socket render schema token queue router") == []
    finally:
        await other_db.close()


async def test_a_delta_beyond_its_limit_is_folded_into_a_rebuilt_base(db: SearchDB) -> None:
    index = NumpyLexicalIndex(db)
    await index.upsert(WS, [doc(i) for i in range(10)])
    assert await ids(index, "unique1") == ["c1"]
    base = index._segments[WS].base

    await index.upsert(WS, [doc(i) for i in range(1000, 1000 + DELTA_MIN)])
    assert await ids(index, "unique1500") == ["c1500"]
    assert index._segments[WS].base is base  # exactly at the limit: still a delta
    await index.upsert(WS, [doc(5000)])
    assert await ids(index, "unique5000") == ["c5000"]
    rebuilt = index._segments[WS]
    assert rebuilt.base is not base and not rebuilt.delta.ids
    assert len(rebuilt.base.ids) == 10 + DELTA_MIN + 1


async def test_a_new_process_starts_from_the_snapshot_plus_the_log(
    db: SearchDB, tmp_path: Path
) -> None:
    snapshots = tmp_path / "lexical"
    writer = NumpyLexicalIndex(db, snapshots)
    await writer.upsert(WS, [doc(i) for i in range(SNAPSHOT_MIN_DOCS)])
    assert await ids(writer, "unique9") == ["c9"]  # builds the base and snapshots it
    assert len(list(snapshots.glob("*.npz"))) == 1
    await writer.upsert(WS, [doc(5000, "monorail"), doc(9, "airship")])
    await writer.delete(["c10"])

    other_db = SearchDB(tmp_path / "search.db")
    await other_db.open()
    try:
        reader = NumpyLexicalIndex(other_db, snapshots)
        from_scratch = NumpyLexicalIndex(other_db)
        for query in ("monorail", "airship unique9", "unique10", "unique11 symbol"):
            assert await ids(reader, query) == await ids(from_scratch, query), query
        segment = reader._segments[WS]
        assert len(segment.base.ids) == SNAPSHOT_MIN_DOCS  # the snapshot's rows ...
        assert set(segment.delta_rows) == {"c5000", "c9"}  # ... plus the logged writes
        assert await reader.match_entities(WS, [], ["mod11.py"], None) == {"c11": ["mod11.py"]}
    finally:
        await other_db.close()


async def test_a_damaged_or_foreign_snapshot_is_not_used(tmp_path: Path) -> None:
    snapshots = tmp_path / "lexical"
    first = SearchDB(tmp_path / "one.db")
    await first.open()
    try:
        await NumpyLexicalIndex(first, snapshots).upsert(WS, [doc(i) for i in range(1200)])
        assert await ids(NumpyLexicalIndex(first, snapshots), "unique3") == ["c3"]
    finally:
        await first.close()
    # Another database (e.g. search.db deleted and recreated) never matches these files.
    second = SearchDB(tmp_path / "two.db")
    await second.open()
    try:
        index = NumpyLexicalIndex(second, snapshots)
        await index.upsert(WS, [doc(i) for i in range(1100, 2200)])
        assert await ids(index, "unique3") == []
        assert await ids(index, "unique1150") == ["c1150"]
        assert len(list(snapshots.glob("*.npz"))) == 2
        for path in snapshots.glob("*.npz"):
            path.write_bytes(b"not a snapshot")
        again = NumpyLexicalIndex(second, snapshots)
        assert await ids(again, "unique1500") == ["c1500"]
        assert len(again._segments[WS].base.ids) == 1100  # rebuilt from SQLite
        # ... and snapshotted again; the other database's damaged file is left alone.
        assert sorted(zipfile.is_zipfile(p) for p in snapshots.glob("*.npz")) == [False, True]
    finally:
        await second.close()


async def test_small_partitions_leave_no_snapshot(db: SearchDB, tmp_path: Path) -> None:
    snapshots = tmp_path / "lexical"
    index = NumpyLexicalIndex(db, snapshots)
    await index.upsert(WS, [doc(i) for i in range(SNAPSHOT_MIN_DOCS - 1)])
    assert await ids(index, "unique1") == ["c1"]
    assert not list(snapshots.glob("*.npz"))


async def test_concurrent_searches_of_a_stale_partition_agree(db: SearchDB) -> None:
    index = NumpyLexicalIndex(db)
    await index.upsert(WS, [doc(i) for i in range(20)])
    assert await asyncio.gather(ids(index, "unique1"), ids(index, "unique2")) == [["c1"], ["c2"]]
    await index.upsert(WS, [doc(30, "kayak")])
    found = await asyncio.gather(*(ids(index, "kayak unique3") for _ in range(4)))
    assert found == [["c30", "c3"]] * 4 or found == [["c3", "c30"]] * 4
