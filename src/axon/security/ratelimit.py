"""The in-process RateLimiter (one replica), rate parsing, and lock-outs.

Redis-backed limits shared by all replicas implement the same port in
`axon.stores`; this adapter is the embedded default.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from axon.ports import RateDecision

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Rate:
    limit: int
    window_seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """'100/15m' -> 100 per 900 s; '10/s' -> 10 per second."""
        match = _RATE_RE.match(text)
        if match is None or int(match.group(1)) < 1:
            raise ValueError(f"invalid rate '{text}': expected e.g. 100/15m, 10/s or 1000/1h")
        count = int(match.group(2) or 1)
        if count < 1:
            raise ValueError(f"invalid rate '{text}': the window must be at least 1")
        return cls(int(match.group(1)), float(count * _UNIT_SECONDS[match.group(3)]))


class InProcessRateLimiter:
    """Fixed windows in a dict; expired windows are swept as the dict grows."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, hits)
        self._max_keys = max_keys

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        now = time.monotonic()
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


class Lockouts:
    """Addresses refused until a time, checked before authentication.

    Failed authentications are counted through the RateLimiter port (shared by
    replicas with Redis); the port can only count, not peek, so the replica that
    sees an address go over the limit remembers it here until the window resets.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._until: dict[str, float] = {}
        self._max_entries = max_entries

    def remaining(self, address: str) -> float:
        """Seconds the address stays locked out (0: it is not)."""
        until = self._until.get(address)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._until[address]
            return 0.0
        return left

    def lock(self, address: str, seconds: float) -> None:
        now = time.monotonic()
        if len(self._until) >= self._max_entries:
            self._until = {a: u for a, u in self._until.items() if u > now}
        self._until[address] = now + seconds
