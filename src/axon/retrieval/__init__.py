"""Retrieval: hybrid lexical + dense search with entity boosts, re-ranking and tiers.

The core of search: it talks to the LexicalIndex and VectorIndex ports, whose
adapters live in `axon.stores` (embedded: `stores/embedded_search/`; production:
`stores/qdrant.py`). `axon.services.build_search` wires them; `Services` exposes
the results as `search_index` and `retriever`.
"""

from __future__ import annotations

from axon.kinds import MAX_LIMIT, MAX_QUERY_CHARS
from axon.retrieval.partitions import partition_of
from axon.retrieval.ranking import RankingWeights
from axon.retrieval.retriever import HybridRetriever
from axon.retrieval.search_index import HybridSearchIndex

__all__ = [
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "HybridRetriever",
    "HybridSearchIndex",
    "RankingWeights",
    "partition_of",
]
