"""How alike two texts are, for supersede and consolidation.

Dense cosine of the embedder's vectors when there is an embedder; otherwise word
overlap (Jaccard), a weaker stand-in that still finds restatements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from axon.ports import Embedder

_WORD = re.compile(r"[a-z0-9]+")


def usable(embedder: Embedder | None) -> Embedder | None:
    return embedder if embedder is not None and embedder.dimension > 0 else None


async def similarities(embedder: Embedder | None, text: str, others: Sequence[str]) -> list[float]:
    """Similarity of `text` to each of `others`, in [0, 1] for normalised vectors."""
    if not others:
        return []
    if embedder is None:
        return [overlap(text, other) for other in others]
    vectors = np.asarray(await embedder.embed([text, *others]), dtype=np.float32)
    return [float(s) for s in vectors[1:] @ vectors[0]]


async def matrix(embedder: Embedder | None, texts: Sequence[str]) -> np.ndarray:
    """Pairwise similarities of `texts` (the consolidation job's one batch)."""
    if embedder is None:
        return np.asarray([[overlap(a, b) for b in texts] for a in texts], dtype=np.float32)
    vectors = np.asarray(await embedder.embed(list(texts)), dtype=np.float32)
    return vectors @ vectors.T


def overlap(a: str, b: str) -> float:
    left, right = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(left & right) / len(left | right) if left | right else 0.0
