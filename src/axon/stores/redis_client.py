"""The shared Redis connection pool, and the guard that lets Axon ride out a Redis outage.

Cache and rate limiting treat Redis as optional at run time: when it stops
answering they fall back (cache bypassed, per-process limits), log one WARNING
per outage and count every bypass in `axon_backend_bypassed_total`. A Redis that
hangs (a stopped process, a dead network path) is an outage like a refused
connection: every socket operation has a timeout, and the guard bounds each call
as a whole by `timeout` (AXON_REDIS_TIMEOUT). The guard also stops hammering a dead
server: after a failure it skips Redis for `retry_after` seconds, then lets one
call probe it while the others keep falling back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from axon.errors import ServiceUnavailable
from axon.metrics import BACKEND_BYPASSED, pool_closed, pool_opened

T = TypeVar("T")
log = logging.getLogger("axon.redis")


DEFAULT_TIMEOUT = 0.5
HEALTH_CHECK_SECONDS = 30


async def _handshake(connection: AbstractConnection) -> None:
    """The connection handshake, with the health check timer started afresh.

    redis-py keeps the old connection's expired timer on a reconnect, so the
    handshake's first command health-checks first; against a hung server that PING
    times out, reconnects and health-checks again, without end (a call never
    returned while Redis was stopped). A connection just made needs no PING.
    """
    loop = asyncio.get_running_loop()
    connection.next_health_check = loop.time() + connection.health_check_interval
    await connection.on_connect()


def redis_client(
    url: str,
    max_connections: int,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    health_check_interval: float = HEALTH_CHECK_SECONDS,
) -> Redis:
    """A client on a blocking pool: callers wait up to `timeout` for a free connection
    instead of opening connections without bound; connecting, reading and writing
    each time out after `timeout` too, and a connection idle for
    `health_check_interval` seconds is PINGed before use."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=health_check_interval,
        redis_connect_func=_handshake,
        # One immediate retry on a fresh connection: after a Redis restart, pooled
        # connections are stale and the first use of each would otherwise fail.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return Redis(connection_pool=pool)


async def open_redis(
    url: str, max_connections: int, timeout_seconds: float = DEFAULT_TIMEOUT
) -> Redis:
    """Connect and ping; a set but unreachable (or hung) REDIS_URL is a start-up error."""
    client = redis_client(url, max_connections, timeout=timeout_seconds)
    try:
        await asyncio.wait_for(client.ping(), 2 * timeout_seconds)
    except (RedisError, OSError, TimeoutError) as exc:
        await client.aclose()
        reason = str(exc) or f"no answer within {2 * timeout_seconds:g}s"
        raise ServiceUnavailable(f"Redis at REDIS_URL is unreachable: {reason}") from None
    pool_opened("redis", max_connections)
    return client


async def close_redis(client: Redis) -> None:
    await client.aclose()
    pool_closed("redis")


class RedisGuard:
    """Runs Redis calls, turning failures into a fallback value plus a warning and a metric."""

    def __init__(self, retry_after: float = 1.0, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.retry_after = retry_after
        self.timeout = timeout
        self._down_until = 0.0
        self._down = False
        self._probing = False  # one call at a time finds out whether Redis is back

    @property
    def down(self) -> bool:
        return self._down

    async def call(
        self,
        operation: str,
        action: Callable[[], Awaitable[T]],
        fallback: Callable[[], Awaitable[T]],
    ) -> T:
        if self._down and (self._probing or time.monotonic() < self._down_until):
            BACKEND_BYPASSED.labels("redis", operation).inc()
            return await fallback()
        probe = self._down
        self._probing = probe
        try:
            result = await asyncio.wait_for(action(), self.timeout)
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._down:
                log.warning(
                    "Redis unreachable, falling back (cache bypassed, per-process rate limits): %s",
                    str(exc) or f"no answer within {self.timeout:g}s",
                    extra={"backend": "redis", "operation": operation},
                )
            self._down = True
            self._down_until = time.monotonic() + self.retry_after
            BACKEND_BYPASSED.labels("redis", operation).inc()
            return await fallback()
        finally:
            if probe:
                self._probing = False
        if self._down:
            log.warning("Redis reachable again", extra={"backend": "redis"})
            self._down = False
        return result
