"""Embedded Cache: an in-process LRU with per-entry TTL, bounded by entry count."""

from __future__ import annotations

import time
from collections import OrderedDict

from axon.metrics import CACHE_HITS, CACHE_MISSES


class MemoryCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[float, bytes]] = OrderedDict()
        self._max_entries = max_entries

    async def get(self, kind: str, key: str) -> bytes | None:
        entry = self._entries.get((kind, key))
        if entry is None:
            CACHE_MISSES.labels(kind).inc()
            return None
        expires, value = entry
        if expires <= time.monotonic():
            del self._entries[(kind, key)]
            CACHE_MISSES.labels(kind).inc()
            return None
        self._entries.move_to_end((kind, key))
        CACHE_HITS.labels(kind).inc()
        return value

    async def set(self, kind: str, key: str, value: bytes, ttl_seconds: float) -> None:
        self._entries[(kind, key)] = (time.monotonic() + ttl_seconds, value)
        self._entries.move_to_end((kind, key))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, kind: str, key: str) -> None:
        self._entries.pop((kind, key), None)
