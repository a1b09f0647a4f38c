"""The in-process RateLimiter (one replica): the embedded default. Redis-backed limits
shared by all replicas implement the same port in `redis_ratelimit.py`."""

from __future__ import annotations

import time
from collections.abc import Callable

from axon.ports import RateDecision


class InProcessRateLimiter:
    """Fixed windows in a dict; expired windows are swept as the dict grows."""

    def __init__(
        self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, hits)
        self._max_keys = max_keys
        self._clock = clock  # monotonic seconds; tests pass their own

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        now = self._clock()
        # No await between read and write: the event loop makes this atomic.
        end, hits = self._windows.get(key, (0.0, 0))
        if end <= now:
            end, hits = now + window_seconds, 0
            if len(self._windows) >= self._max_keys:
                self._sweep(now)
        hits += 1
        self._windows[key] = (end, hits)
        return RateDecision(
            allowed=hits <= limit,
            limit=limit,
            remaining=max(0, limit - hits),
            reset_after=max(0.0, end - now),
        )

    def _sweep(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] > now}

    async def close(self) -> None:
        self._windows.clear()
