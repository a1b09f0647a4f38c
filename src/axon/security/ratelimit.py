"""Rate parsing and lock-outs. The RateLimiter port's adapters are in `axon.stores`:
`memory_ratelimit.py` (one replica, the embedded default) and `redis_ratelimit.py`
(limits shared by all replicas)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

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
