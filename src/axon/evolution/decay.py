"""Decay: knowledge nobody uses or confirms loses salience, never its place.

Captured, hand-written and conversation contexts fade with the time since they were
last used, changed or confirmed (`updatedAt`, which every use moves, or the last
confirmation), halving every `half-life` days of their kind. Source-backed contexts
(indexed code and docs) do not decay: they are as fresh as their file, which the
freshness term measures from their last change. Salience is computed when ranking,
so it needs no writes and nothing is deleted by it (retention clean-up stays the only
deleter).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from axon.models import Context, ContextType, EvidenceSource

# Days until an unused context of each kind is half as salient. Conventions and
# patterns hold longest, conversation turns fade within weeks.
DEFAULT_HALF_LIVES: dict[ContextType, float] = {
    ContextType.DECISION: 180.0,
    ContextType.PATTERN: 365.0,
    ContextType.NOTE: 120.0,
    ContextType.CONVERSATION: 14.0,
}
FALLBACK_HALF_LIFE = 90.0  # other kinds written by hand (documentation, architecture, ...)


def decays(context: Context) -> bool:
    return context.evidence.source is not EvidenceSource.INDEXED


def last_touched(context: Context) -> datetime:
    confirmed = context.evidence.confirmed_at
    return max(context.updated_at, confirmed) if confirmed else context.updated_at


def salience(context: Context, now: datetime, half_lives: Mapping[ContextType, float]) -> float:
    """2^(-days since last touched / half-life of the kind), in (0, 1]."""
    half_life = half_lives.get(context.type, DEFAULT_HALF_LIVES.get(context.type))
    days = max((now - last_touched(context)).total_seconds(), 0.0) / 86_400
    return math.exp(-math.log(2) * days / (half_life or FALLBACK_HALF_LIFE))
