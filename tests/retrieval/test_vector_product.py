"""The dense product split into row blocks over the cores equals the plain product."""

from __future__ import annotations

import numpy as np

from axon.stores.embedded_search.vectors import PARALLEL_ROWS, _product


def test_blocked_product_equals_the_plain_product() -> None:
    rng = np.random.default_rng(5)
    for rows in (10, PARALLEL_ROWS - 1, PARALLEL_ROWS + 7):
        matrix = rng.standard_normal((rows, 384)).astype(np.float32)
        vector = rng.standard_normal(384).astype(np.float32)
        got = _product(matrix, vector)
        assert got.shape == (rows,) and got.dtype == np.float32
        assert np.allclose(got, matrix @ vector, rtol=1e-5, atol=1e-5)
