"""The shared Redis connection pool, and the guard that lets Axon ride out a Redis outage.

Cache and rate limiting treat Redis as optional at run time: when it stops
answering they fall back (cache bypassed, per-process limits), log one WARNING
per outage and count every bypass in `axon_backend_bypassed_total`. The guard
also stops hammering a dead server: after a failure it skips Redis for
`retry_after` seconds before trying again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from axon.errors import ServiceUnavailable
from axon.metrics import BACKEND_BYPASSED, pool_closed, pool_opened

T = TypeVar("T")
log = logging.getLogger("axon.redis")


def redis_client(url: str, max_connections: int, *, timeout: float = 2.0) -> Redis:
    """A client on a blocking pool: callers wait up to `timeout` for a free connection
    instead of opening connections without bound."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_connect_timeout=1.0,
        socket_timeout=timeout,
        health_check_interval=30,
        # One immediate retry on a fresh connection: after a Redis restart, pooled
        # connections are stale and the first use of each would otherwise fail.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return Redis(connection_pool=pool)


async def open_redis(url: str, max_connections: int) -> Redis:
    """Connect and ping; a set but unreachable REDIS_URL is a start-up error."""
    client = redis_client(url, max_connections)
    try:
        await client.ping()
    except RedisError as exc:
        await client.aclose()
        raise ServiceUnavailable(f"Redis at REDIS_URL is unreachable: {exc}") from None
    pool_opened("redis", max_connections)
    return client


async def close_redis(client: Redis) -> None:
    await client.aclose()
    pool_closed("redis")


class RedisGuard:
    """Runs Redis calls, turning failures into a fallback value plus a warning and a metric."""

    def __init__(self, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        self._down_until = 0.0
        self._down = False

    @property
    def down(self) -> bool:
        return self._down

    async def call(
        self,
        operation: str,
        action: Callable[[], Awaitable[T]],
        fallback: Callable[[], Awaitable[T]],
    ) -> T:
        if self._down and time.monotonic() < self._down_until:
            BACKEND_BYPASSED.labels("redis", operation).inc()
            return await fallback()
        try:
            result = await action()
        except (RedisError, OSError) as exc:
            if not self._down:
                log.warning(
                    "Redis unreachable, falling back (cache bypassed, per-process rate limits): %s",
                    exc,
                    extra={"backend": "redis", "operation": operation},
                )
            self._down = True
            self._down_until = time.monotonic() + self.retry_after
            BACKEND_BYPASSED.labels("redis", operation).inc()
            return await fallback()
        if self._down:
            log.warning("Redis reachable again", extra={"backend": "redis"})
            self._down = False
        return result
