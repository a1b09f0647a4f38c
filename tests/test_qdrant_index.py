"""Qdrant adapters (qdrant-client local mode, the same code path as a server) against the
embedded numpy indexes on the same data: same top-10, same entity matches."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

import axon
from axon.models import Context, ContextType, Tier, content_hash
from axon.ports import IndexFilter, LexicalDoc, VectorItem
from axon.retrieval import ranking
from axon.retrieval.query import query_terms
from axon.retrieval.search_index import lexical_terms
from axon.stores.embedded_search.db import SearchDB
from axon.stores.embedded_search.lexical import NumpyLexicalIndex
from axon.stores.embedded_search.vectors import NumpyVectorIndex
from axon.stores.qdrant import (
    AVG_DOC_TERMS,
    QdrantCollection,
    QdrantLexicalIndex,
    QdrantVectorIndex,
)

DIM = 384


@pytest.fixture
async def collection(tmp_path: Path) -> AsyncIterator[QdrantCollection]:
    col = QdrantCollection(":memory:", "axon-contexts", DIM)
    await col.open()
    try:
        yield col
    finally:
        await col.close()


@pytest.fixture
async def search_db(tmp_path: Path) -> AsyncIterator[SearchDB]:
    db = SearchDB(tmp_path / "search.db")
    await db.open()
    try:
        yield db
    finally:
        await db.close()


def _unit(rng: np.random.Generator, n: int) -> NDArray[np.float32]:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    unit: NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def _items(n: int, seed: int = 7) -> list[VectorItem]:
    rng = np.random.default_rng(seed)
    vectors = _unit(rng, n)
    tiers = list(Tier)
    types = [ContextType.SYMBOL, ContextType.FILE, ContextType.DOCUMENTATION]
    return [VectorItem(f"c{i:04d}", "ws", tiers[i % 3], types[i % 3], vectors[i]) for i in range(n)]


async def test_open_is_idempotent_and_checks_the_dimension(tmp_path: Path) -> None:
    url = f"path:{tmp_path / 'q'}"
    first = QdrantCollection(url, "axon-contexts", DIM)
    await first.open()
    await first.open()
    info = await first.client.get_collection("axon-contexts")
    assert info.config.params.sparse_vectors is not None
    assert str(info.config.params.sparse_vectors["lexical"].modifier) in {"idf", "Modifier.IDF"}
    await first.close()
    other = QdrantCollection(url, "axon-contexts", 768)
    with pytest.raises(axon.errors.ServiceUnavailable, match="384-d vectors"):
        await other.open()
    await other.close()


async def test_dense_top10_equals_the_embedded_index(
    collection: QdrantCollection, search_db: SearchDB, tmp_path: Path
) -> None:
    items = _items(400)
    numpy_index = NumpyVectorIndex(search_db, tmp_path / "vectors")
    qdrant_index = QdrantVectorIndex(collection)
    for index in (numpy_index, qdrant_index):
        await index.upsert("ws", items[:300])
        await index.upsert("global", items[300:])
    queries = _unit(np.random.default_rng(99), 15)
    filters = [None, IndexFilter(tiers=[Tier.WORKSPACE]), IndexFilter(types=[ContextType.FILE])]
    for q in queries:
        for flt in filters:
            for partition in ("ws", "global"):
                expected = await numpy_index.search(partition, q, 10, flt)
                got = await qdrant_index.search(partition, q, 10, flt)
                assert [cid for cid, _ in got] == [cid for cid, _ in expected]
                assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-4)


def _repo_chunks() -> list[Context]:
    """Function-sized chunks of Axon's own source: a realistic lexical fixture."""
    root = Path(axon.__file__).parent
    contexts: list[Context] = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        rel = str(path.relative_to(root.parent))
        for i, part in enumerate(re.split(r"\n(?=(?:async )?def |class )", text)):
            name = re.match(r"(?:async )?(?:def|class) (\w+)", part)
            if not part.strip():
                continue
            contexts.append(
                Context(
                    id=f"{rel}:{i}",
                    workspace_id="ws",
                    type=ContextType.SYMBOL if name else ContextType.FILE,
                    path=rel,
                    symbol=name.group(1) if name else None,
                    content=part,
                    content_hash=content_hash(part),
                )
            )
    return contexts


def _lexical_doc(c: Context) -> LexicalDoc:
    return LexicalDoc(
        c.id, c.workspace_id, c.tier, c.type, c.path, c.symbol, c.content_hash, lexical_terms(c)
    )


QUERIES = [
    "how does the job queue retry a failed job",
    "replace_file transaction atomic contexts",
    "rate limit window redis",
    "parse cursor base64 pagination",
    "health readiness probe disconnected",
    "tokenize camelCase identifiers",
    "workspace delete contexts files",
    "embedding cache content hash model",
]


async def _lexical_pair(
    collection: QdrantCollection, search_db: SearchDB, avg_doc_terms: float | None
) -> tuple[NumpyLexicalIndex, QdrantLexicalIndex]:
    docs = [_lexical_doc(c) for c in _repo_chunks()]
    assert len(docs) > 200
    mean = sum(sum(d.terms.values()) for d in docs) / len(docs)
    numpy_index = NumpyLexicalIndex(search_db)
    qdrant_index = QdrantLexicalIndex(collection, avg_doc_terms or mean)
    for index in (numpy_index, qdrant_index):
        await index.upsert("ws", docs)
    return numpy_index, qdrant_index


async def test_lexical_top10_equals_the_embedded_index_at_the_same_average_length(
    collection: QdrantCollection, search_db: SearchDB
) -> None:
    """Same BM25 weights, IDF applied inside Qdrant: the same ranking."""
    numpy_index, qdrant_index = await _lexical_pair(collection, search_db, None)
    for query in QUERIES:
        terms = query_terms(query)
        expected = await numpy_index.search("ws", terms, 10, None)
        got = await qdrant_index.search("ws", terms, 10, None)
        assert [cid for cid, _ in got] == [cid for cid, _ in expected], query
        assert np.allclose([s for _, s in got], [s for _, s in expected], rtol=1e-3)


async def test_lexical_top10_stays_close_with_the_default_average_length(
    collection: QdrantCollection, search_db: SearchDB
) -> None:
    numpy_index, qdrant_index = await _lexical_pair(collection, search_db, AVG_DOC_TERMS)
    overlaps = []
    for query in QUERIES:
        terms = query_terms(query)
        expected = [cid for cid, _ in await numpy_index.search("ws", terms, 10, None)]
        got = [cid for cid, _ in await qdrant_index.search("ws", terms, 10, None)]
        assert got[0] == expected[0], query
        overlaps.append(len(set(got) & set(expected)))
    assert sum(overlaps) / len(overlaps) >= 9.5, overlaps


async def test_entity_matches_equal_the_embedded_index(
    collection: QdrantCollection, search_db: SearchDB
) -> None:
    docs = [_lexical_doc(c) for c in _repo_chunks()]
    numpy_index = NumpyLexicalIndex(search_db)
    qdrant_index = QdrantLexicalIndex(collection)
    for index in (numpy_index, qdrant_index):
        await index.upsert("ws", docs)
    cases = [
        (["run_job", "JobQueue.submit", "nothing_here"], []),
        ([], ["stores/pagination.py", "/home/me/src/axon/jobs.py"]),
        (["encode_cursor"], ["axon/stores/pagination.py"]),
    ]
    for symbols, paths in cases:
        expected = await numpy_index.match_entities("ws", symbols, paths, None)
        got = await qdrant_index.match_entities("ws", symbols, paths, None)
        assert got == expected and expected
    flt = IndexFilter(types=[ContextType.FILE])
    assert await qdrant_index.match_entities(
        "ws", ["run_job"], [], flt
    ) == await numpy_index.match_entities("ws", ["run_job"], [], flt)


async def test_fingerprints_ids_and_deletes(collection: QdrantCollection) -> None:
    lexical = QdrantLexicalIndex(collection)
    vectors = QdrantVectorIndex(collection)
    items = _items(6)
    docs = [
        LexicalDoc(it.id, "ws", it.tier, it.type, "a.py", None, f"h{it.id}", {"alpha": 1})
        for it in items
    ]
    await lexical.upsert("ws", docs[:4])
    await vectors.upsert("ws", items[2:])  # c0002..c0005: two join lexical points
    # Re-indexing the lexical half keeps the dense vector of the same point.
    await lexical.upsert("ws", docs[2:3])
    assert set(await vectors.fingerprints("ws")) == {"c0002", "c0003", "c0004", "c0005"}
    prints = await lexical.fingerprints("ws")
    assert prints == {d.id: d.content_hash for d in docs[:4]}
    hits = await vectors.search("ws", items[2].vector, 1, None)
    assert hits[0][0] == "c0002"
    await lexical.delete(["c0000", "c0002"])
    await vectors.delete(["c0002", "c0003"])
    assert set(await vectors.fingerprints("ws")) == {"c0004", "c0005"}
    assert set(await lexical.fingerprints("ws")) == {"c0001", "c0003"}
    await vectors.delete_workspace("ws")
    assert set(await vectors.fingerprints("ws")) == set() and await lexical.fingerprints("ws") == {}


async def test_hybrid_fusion_inside_qdrant_equals_the_embedded_fusion(
    collection: QdrantCollection, search_db: SearchDB, tmp_path: Path
) -> None:
    """Prefetch + formula in Qdrant give the candidates, fused scores and raw scores the
    retriever computes from the embedded lists (same BM25 average length)."""
    chunks = _repo_chunks()
    docs = [_lexical_doc(c) for c in chunks]
    mean = sum(sum(d.terms.values()) for d in docs) / len(docs)
    vectors = _unit(np.random.default_rng(3), len(docs))
    items = [
        VectorItem(d.id, d.workspace_id, d.tier, d.type, vectors[i]) for i, d in enumerate(docs)
    ]
    numpy_lexical, numpy_vectors = (
        NumpyLexicalIndex(search_db),
        NumpyVectorIndex(search_db, tmp_path / "vectors"),
    )
    qdrant_lexical, qdrant_vectors = (
        QdrantLexicalIndex(collection, mean),
        QdrantVectorIndex(collection),
    )
    for lexical, dense in ((numpy_lexical, numpy_vectors), (qdrant_lexical, qdrant_vectors)):
        await lexical.upsert("ws", docs)
        await dense.upsert("ws", items)
    queries = _unit(np.random.default_rng(11), len(QUERIES))
    k = 50
    symbols_only = IndexFilter(types=[ContextType.SYMBOL])
    files_only = IndexFilter(types=[ContextType.FILE])
    for weight in (0.8, 0.3):
        for query, vector in zip([*QUERIES, ""], [*queries, queries[0]], strict=True):
            terms = query_terms(query) if query else []
            lists = [
                (
                    dict(await numpy_lexical.search("ws", terms, size, flt)),
                    dict(await numpy_vectors.search("ws", vector, size, flt)),
                )
                for size, flt in ((k, symbols_only), (10, files_only))
            ]
            # One normalisation over both asks, as the retriever's reserved types get.
            expected = ranking.fuse(
                {**lists[1][0], **lists[0][0]}, {**lists[1][1], **lists[0][1]}, weight
            )
            found = await qdrant_vectors.hybrid_search(
                "ws", terms, vector, [(k, symbols_only), (10, files_only)], weight
            )
            assert len(found) == 2
            for (lexical_list, dense_list), hits in zip(lists, found, strict=True):
                got = {h.id: h for h in hits}
                wanted = lexical_list.keys() | dense_list.keys()
                # Chunks tied on the k-th lexical score may be cut either way; any other
                # difference in the candidates is a fusion bug.
                edge = min(lexical_list.values(), default=0.0)
                for cid in got.keys() ^ wanted:
                    score = got[cid].lexical if cid in got else lexical_list[cid]
                    assert score == pytest.approx(edge, rel=1e-3), (query, cid)
                got = {cid: hit for cid, hit in got.items() if cid in wanted}
                hits = [h for h in hits if h.id in got]
                top = sorted(got, key=lambda c: -expected[c])[:10]
                assert [h.id for h in hits[:10]] == top, query
                for cid, hit in got.items():
                    assert hit.fused == pytest.approx(expected[cid], abs=1e-5)
                    assert hit.lexical == pytest.approx(lexical_list.get(cid, 0.0), rel=1e-3)
                    assert hit.dense == pytest.approx(dense_list.get(cid, 0.0), abs=1e-5)
