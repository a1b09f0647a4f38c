"""Cache on Redis: keys `axon:cache:<kind>:<key>`, each with its own TTL.

Nothing else Axon stores lives under `axon:cache:`, so the runbook's
scan-and-delete of that pattern only ever empties the cache.
"""

from __future__ import annotations

from redis.asyncio import Redis

from axon.metrics import CACHE_HITS, CACHE_MISSES
from axon.stores.redis_client import RedisGuard

PREFIX = "axon:cache:"


def cache_key(kind: str, key: str) -> str:
    return f"{PREFIX}{kind}:{key}"


class RedisCache:
    def __init__(self, client: Redis, guard: RedisGuard) -> None:
        self._redis = client
        self._guard = guard

    async def get(self, kind: str, key: str) -> bytes | None:
        async def miss() -> bytes | None:
            return None

        async def fetch() -> bytes | None:
            value = await self._redis.get(cache_key(kind, key))
            return bytes(value) if value is not None else None

        value = await self._guard.call("cache_get", fetch, miss)
        (CACHE_MISSES if value is None else CACHE_HITS).labels(kind).inc()
        return value

    async def set(self, kind: str, key: str, value: bytes, ttl_seconds: float) -> None:
        async def skip() -> None:
            return None

        async def store() -> None:
            await self._redis.set(cache_key(kind, key), value, px=max(1, int(ttl_seconds * 1000)))

        await self._guard.call("cache_set", store, skip)

    async def delete(self, kind: str, key: str) -> None:
        async def skip() -> None:
            return None

        async def remove() -> None:
            await self._redis.delete(cache_key(kind, key))

        await self._guard.call("cache_delete", remove, skip)
