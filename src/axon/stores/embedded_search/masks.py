"""Tier and type codes shared by the in-memory indexes, and the filter mask."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from axon.models import ContextType, Tier
from axon.ports import IndexFilter

TIER_CODES: dict[Tier, int] = {tier: i for i, tier in enumerate(Tier)}
TYPE_CODES: dict[ContextType, int] = {kind: i for i, kind in enumerate(ContextType)}
MAX_MASKS = 32


class RowCodes:
    """The tier and type code of every row of a partition's arrays.

    A partition holds a single tier and usually a few types, so most filters allow
    every row; knowing the codes present skips building a mask for those.
    """

    def __init__(self, tiers: NDArray[np.int8], types: NDArray[np.int8]) -> None:
        self.tiers = tiers
        self.types = types
        self._tiers_present = frozenset(np.unique(tiers).tolist())
        self._types_present = frozenset(np.unique(types).tolist())
        # The codes never change and callers ask with few distinct filters (the pipeline:
        # one per task type), so masks are built once each.
        self._masks: dict[
            tuple[frozenset[int] | None, frozenset[int] | None], NDArray[np.bool_]
        ] = {}

    def mask(self, flt: IndexFilter | None) -> NDArray[np.bool_] | None:
        """Rows allowed by `flt`, or None when it allows every row."""
        if flt is None:
            return None
        tiers = {TIER_CODES[t] for t in flt.tiers} if flt.tiers else None
        types = {TYPE_CODES[t] for t in flt.types} if flt.types else None
        if tiers is not None and self._tiers_present <= tiers:
            tiers = None
        if types is not None and self._types_present <= types:
            types = None
        if tiers is None and types is None:
            return None
        key = (
            frozenset(tiers) if tiers is not None else None,
            frozenset(types) if types is not None else None,
        )
        mask = self._masks.get(key)
        if mask is None:
            mask = np.ones(len(self.tiers), dtype=bool)
            if tiers is not None:
                mask &= np.isin(self.tiers, list(tiers))
            if types is not None:
                mask &= np.isin(self.types, list(types))
            mask.flags.writeable = False  # shared by every search with this filter
            if len(self._masks) >= MAX_MASKS:
                self._masks.clear()
            self._masks[key] = mask
        return mask
