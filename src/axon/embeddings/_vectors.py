"""Checks shared by the remote embedders: shape, finiteness, unit length."""

from __future__ import annotations

from collections.abc import Sequence

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
