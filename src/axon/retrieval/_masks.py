"""Tier and type codes shared by the in-memory indexes, and the filter mask."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from axon.models import ContextType, Tier
from axon.ports import IndexFilter

TIER_CODES: dict[Tier, int] = {tier: i for i, tier in enumerate(Tier)}
TYPE_CODES: dict[ContextType, int] = {kind: i for i, kind in enumerate(ContextType)}


def filter_mask(
    tiers: NDArray[np.int8], types: NDArray[np.int8], flt: IndexFilter | None
) -> NDArray[np.bool_] | None:
    """Rows allowed by `flt`, or None when it allows everything."""
    if flt is None or (not flt.tiers and not flt.types):
        return None
    mask = np.ones(len(tiers), dtype=bool)
    if flt.tiers:
        mask &= np.isin(tiers, [TIER_CODES[t] for t in flt.tiers])
    if flt.types:
        mask &= np.isin(types, [TYPE_CODES[t] for t in flt.types])
    return mask
