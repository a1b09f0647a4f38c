"""The `none` embedder: lexical-only retrieval, no vectors at all."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


class NoneEmbedder:
    """Dimension 0: every text maps to an empty vector, so dense search is skipped.

    `reason` says why this embedder was chosen when it was not asked for (shown
    by /health); it is None when AXON_EMBEDDER=none was set explicitly.
    """

    name = "none"
    dimension = 0

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.zeros((len(texts), 0), dtype=np.float32)
