"""Scores: fusing lexical and dense relevance, entity boosts, and the final re-rank."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from axon.config import Settings
from axon.models import Context, ContextType

# Entity boosts, in units of normalised relevance (the best candidate has relevance 1).
SYMBOL_BOOST = 0.5  # the context defines a symbol the query names
PATH_BOOST = 0.6  # the context's file is a path (or module) the query names
CONTAINS_BOOST = 0.15  # the context's text contains a named symbol or error
MAX_BOOST = 1.0
USAGE_SATURATION = 100  # usageCount at which the usage signal reaches 1


@dataclass(frozen=True, slots=True)
class RankingWeights:
    relevance: float = 0.6
    freshness: float = 0.2
    usage: float = 0.1
    confidence: float = 0.1
    half_life_days: float = 90.0
    lexical: float = 0.8  # share of lexical vs dense in relevance (dense gets the rest)
    mmr_lambda: float = 0.8  # 1 = pure relevance, lower = more diverse
    prose: float = 0.5  # relevance factor of documentation prose next to code

    @classmethod
    def from_settings(cls, settings: Settings) -> RankingWeights:
        return cls(
            relevance=settings.rank_relevance_weight,
            freshness=settings.rank_freshness_weight,
            usage=settings.rank_usage_weight,
            confidence=settings.rank_confidence_weight,
            half_life_days=settings.freshness_half_life_days,
            lexical=settings.lexical_weight,
            mmr_lambda=settings.mmr_lambda,
            prose=settings.rank_prose_weight,
        )


def normalise(scores: dict[str, float]) -> dict[str, float]:
    """Scale to [0, 1] by the best score, so lexical and dense lists are comparable."""
    top = max(scores.values(), default=0.0)
    if top <= 0:
        return {key: 0.0 for key in scores}
    return {key: max(value, 0.0) / top for key, value in scores.items()}


def fuse(
    lexical: dict[str, float], dense: dict[str, float], lexical_weight: float
) -> dict[str, float]:
    """Relevance of every candidate of either list: the weighted sum of both normalised
    scores (Qdrant's hybrid search computes the same inside Qdrant)."""
    lex_n, dense_n = normalise(lexical), normalise(dense)
    return {
        cid: lexical_weight * lex_n.get(cid, 0.0) + (1 - lexical_weight) * dense_n.get(cid, 0.0)
        for cid in lexical.keys() | dense.keys()
    }


def freshness(context: Context, now: datetime, half_life_days: float) -> float:
    age_days = max((now - context.updated_at).total_seconds(), 0.0) / 86_400
    return math.exp(-math.log(2) * age_days / half_life_days)


def usage(context: Context) -> float:
    return min(math.log1p(max(context.usage_count, 0)) / math.log1p(USAGE_SATURATION), 1.0)


def final_score(
    weights: RankingWeights, relevance: float, fresh: float, used: float, confidence: float
) -> float:
    return (
        weights.relevance * relevance
        + weights.freshness * fresh
        + weights.usage * used
        + weights.confidence * confidence
    )


_PROSE_LANGUAGES = frozenset({None, "markdown", "restructuredtext", "text", "tex"})


def kind_prior(context: Context, weights: RankingWeights) -> float:
    """Documentation prose (guides, change logs) describes code in the same words a
    question uses, so it outscores the code itself on words alone; it is weighed down
    next to code. Hand-written contexts (decisions, conventions) are not prose here."""
    if context.type in (ContextType.DOCUMENTATION, ContextType.NOTE):
        return weights.prose
    if context.type is ContextType.FILE and context.language in _PROSE_LANGUAGES:
        return weights.prose
    return 1.0
