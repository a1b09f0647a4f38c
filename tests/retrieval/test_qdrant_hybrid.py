"""The whole retriever on Qdrant (hybrid search fused inside Qdrant) against the embedded
indexes, on the same store, contexts and real local embeddings: the same top-10."""

from __future__ import annotations

import pytest

from axon.config import Settings, load_settings
from axon.ports import SearchRequest
from axon.retrieval.search_index import lexical_terms
from axon.services import build_search, build_services
from axon.stores.qdrant import QdrantCollection, QdrantLexicalIndex, QdrantVectorIndex
from tests.retrieval.conftest import add_workspace
from tests.test_qdrant_index import QUERIES, _repo_chunks

EXTRA_QUERIES = [
    "where are API keys hashed before they are stored",
    'Traceback: File "src/axon/stores/pagination.py", in decode_cursor ValueError',
    "HybridRetriever._gather fusion of the lexical and dense lists",
]


@pytest.mark.needs_model
async def test_qdrant_hybrid_search_ranks_like_the_embedded_indexes(settings: Settings) -> None:
    services = await build_services(load_settings(embedder="local"))
    contexts = [c.model_copy(update={"workspace_id": "proj"}) for c in _repo_chunks()[:240]]
    mean = sum(sum(lexical_terms(c).values()) for c in contexts) / len(contexts)
    collection = QdrantCollection(":memory:", "axon-contexts", 384)
    await collection.open()
    embedded = await build_search(services.settings, services.store, services.embedder)
    qdrant = await build_search(
        services.settings,
        services.store,
        services.embedder,
        (QdrantLexicalIndex(collection, mean), QdrantVectorIndex(collection)),
    )
    try:
        assert qdrant.retriever.hybrid is not None and embedded.retriever.hybrid is None
        await add_workspace(services, "proj")
        await services.store.put_contexts(contexts)
        await embedded.index.index(contexts)
        await qdrant.index.index(contexts)  # embeddings come from the shared cache
        for query in [*QUERIES, *EXTRA_QUERIES]:
            request = SearchRequest(query=query, workspace_id="proj", limit=10)
            expected = await embedded.retriever.search(request)
            got = await qdrant.retriever.search(request)
            assert [h.context.id for h in got] == [h.context.id for h in expected], query
            for mine, theirs in zip(got, expected, strict=True):
                assert abs(mine.breakdown.final - theirs.breakdown.final) < 1e-4
                assert abs(mine.breakdown.dense - theirs.breakdown.dense) < 1e-4
            assert any(h.breakdown.dense > 0 for h in got) and any(
                h.breakdown.lexical > 0 for h in got
            )
    finally:
        await qdrant.close()
        await embedded.close()
        await collection.close()
        await services.close()


@pytest.mark.needs_model
async def test_the_retriever_takes_relevance_from_the_index_that_fuses(
    settings: Settings,
) -> None:
    """Proof the retriever uses Qdrant's fusion rather than its own: beside a lexical
    index that matches, a Qdrant collection holding dense vectors only makes every hit's
    lexical score 0 -- it came from Qdrant's (empty) sparse list."""
    services = await build_services(load_settings(embedder="local"))
    contexts = [c.model_copy(update={"workspace_id": "proj"}) for c in _repo_chunks()[:60]]
    collection = QdrantCollection(":memory:", "dense-only", 384)
    await collection.open()
    embedded = await build_search(services.settings, services.store, services.embedder)
    mixed = await build_search(
        services.settings,
        services.store,
        services.embedder,
        (embedded.index.lexical, QdrantVectorIndex(collection)),
    )
    try:
        await add_workspace(services, "proj")
        await services.store.put_contexts(contexts)
        await embedded.index.index(contexts)
        await mixed.index.index(contexts)
        request = SearchRequest(query="workspace contexts files", workspace_id="proj")
        own = await embedded.retriever.search(request)
        fused_by_qdrant = await mixed.retriever.search(request)
        assert any(h.breakdown.lexical > 0 for h in own)
        assert fused_by_qdrant and all(h.breakdown.lexical == 0 for h in fused_by_qdrant)
        assert any(h.breakdown.dense > 0 for h in fused_by_qdrant)
    finally:
        await mixed.close()
        await embedded.close()
        await collection.close()
        await services.close()
