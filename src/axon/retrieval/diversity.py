"""Diversity (MMR) and grouping of results by file."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")
_BUCKETS = 512
_LINES = 40  # the start of a chunk is enough to tell a near-duplicate


def line_sketch(texts: Sequence[str]) -> NDArray[np.float32]:
    """Each text as a binary vector of hashed, whitespace-trimmed lines.

    Near-duplicate chunks (copied code, repeated boilerplate) share most lines, which
    is the redundancy MMR should push down; hashing keeps it one matrix product.
    """
    sketch = np.zeros((len(texts), _BUCKETS), dtype=np.float32)
    for row, text in enumerate(texts):
        sketch[row, _line_buckets(text)] = 1.0
    return sketch


# The same chunks come back across searches; hashing their lines is most of the cost.
@lru_cache(maxsize=8192)
def _line_buckets(text: str) -> NDArray[np.intp]:
    buckets = np.fromiter(
        {zlib.crc32(line.encode()) % _BUCKETS for line in text.split("\n") if line.strip()},
        dtype=np.intp,
    )
    buckets.flags.writeable = False  # shared by every search that meets this text
    return buckets


def jaccard_matrix(sketch: NDArray[np.float32]) -> NDArray[np.float32]:
    inter = sketch @ sketch.T
    sizes = sketch.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    result: NDArray[np.float32] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return result


def mmr(
    scores: NDArray[np.float64], similarity: NDArray[np.float32], lam: float, k: int
) -> list[int]:
    """Maximal marginal relevance: indexes picked by score minus similarity to those
    already picked. `scores` in [0, 1]; `similarity` is pairwise in [0, 1]."""
    n = len(scores)
    if lam >= 1.0 or n == 0:
        return list(np.argsort(-scores, kind="stable")[:k])
    taken = np.zeros(n, dtype=bool)
    max_sim = np.zeros(n, dtype=np.float64)
    picked: list[int] = []
    for _ in range(min(k, n)):
        value = lam * scores - (1 - lam) * max_sim
        value[taken] = -np.inf
        best = int(np.argmax(value))
        taken[best] = True
        picked.append(best)
        np.maximum(max_sim, similarity[best], out=max_sim)
    return picked


def group_by_file(
    items: Sequence[T], key: Callable[[T], str | None], score: Callable[[T], float], spread: float
) -> list[T]:
    """Keep a file's results together, files ordered by an aggregate of their chunk scores.

    A file's score is its best chunk plus `spread` times its next two, so a file with
    several matching chunks edges out one with a single equally good chunk. Results
    without a path keep their own place.
    """
    groups: dict[str, list[T]] = {}
    for i, item in enumerate(items):
        groups.setdefault(key(item) or f"\0{i}", []).append(item)

    def file_score(members: list[T]) -> float:
        ranked = sorted((score(m) for m in members), reverse=True)
        return ranked[0] + spread * sum(ranked[1:3])

    ordered = sorted(groups.values(), key=file_score, reverse=True)
    return [item for members in ordered for item in members]
