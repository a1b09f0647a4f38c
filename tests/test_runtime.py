"""A server that owns its services collects cycles less often (api/runtime.py)."""

from __future__ import annotations

import gc

from axon.api.app import create_app
from axon.api.runtime import GC_THRESHOLDS
from axon.config import Settings


async def test_a_serving_app_raises_the_gc_thresholds(settings: Settings) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)
