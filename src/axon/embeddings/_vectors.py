"""Helpers shared by the remote embedders: batching, and checks of shape, finiteness and length."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from axon.embeddings.errors import EmbedderError


def unit_rows(rows: Sequence[Sequence[float]], dimension: int, source: str) -> NDArray[np.float32]:
    """Rows as a float32 matrix, L2-normalised; a reply of the wrong shape is an error."""
    try:
        matrix = np.asarray(rows, dtype=np.float32)
    except ValueError as exc:
        raise EmbedderError(f"{source} returned vectors of uneven length") from exc
    if matrix.ndim != 2 or matrix.shape[1] != dimension:
        got = matrix.shape[1] if matrix.ndim == 2 else "no"
        raise EmbedderError(
            f"{source} returned {got}-dimensional vectors, expected {dimension} "
            "(check AXON_EMBEDDING_MODEL and AXON_EMBEDDING_DIMENSION)"
        )
    if not np.all(np.isfinite(matrix)):
        raise EmbedderError(f"{source} returned non-finite numbers")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: NDArray[np.float32] = matrix / np.maximum(norms, 1e-12)
    return unit


async def embed_in_batches(
    texts: Sequence[str],
    batch_size: int,
    embed_batch: Callable[[Sequence[str]], Awaitable[list[list[float]]]],
    dimension: int,
    source: str,
) -> NDArray[np.float32]:
    """Send `texts` to a remote embedder `batch_size` at a time; one unit-row matrix back."""
    rows: list[list[float]] = []
    for start in range(0, len(texts), batch_size):
        rows.extend(await embed_batch(texts[start : start + batch_size]))
    if not rows:
        return np.zeros((0, dimension), dtype=np.float32)
    return unit_rows(rows, dimension, source)
