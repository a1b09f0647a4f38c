"""What Axon caches, and for how long.

Every cache entry has a kind; the kind picks the TTL (settings, overridable by
environment) and the key namespace (`axon:cache:<kind>:` in Redis), so one
kind can be flushed without touching the others.
"""

from __future__ import annotations

from enum import StrEnum

from axon.config import Settings


class CacheKind(StrEnum):
    EMBEDDINGS = "embeddings"
    ANALYSES = "analyses"
    QUERY_RESULTS = "query-results"
    LLM_RESPONSES = "llm-responses"


def cache_ttl(settings: Settings, kind: CacheKind) -> float:
    """Seconds an entry of `kind` lives."""
    return {
        CacheKind.EMBEDDINGS: settings.cache_ttl_embeddings,
        CacheKind.ANALYSES: settings.cache_ttl_analyses,
        CacheKind.QUERY_RESULTS: settings.cache_ttl_query_results,
        CacheKind.LLM_RESPONSES: settings.cache_ttl_llm_responses,
    }[kind]
