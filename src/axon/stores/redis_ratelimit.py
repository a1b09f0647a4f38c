"""RateLimiter on Redis, shared by every replica: a sliding-window log per key.

Each allowed hit is a member of a sorted set `axon:rl:<key>` scored by the
Redis server's clock (so replicas with skewed clocks agree). A hit is allowed
while fewer than `limit` hits fall inside the last `window_seconds`; refused
hits are not recorded, so a client that keeps knocking is let in again as soon
as its oldest hit leaves the window. While Redis is unreachable the per-process
fallback limiter answers, so limits still hold per replica.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from axon.ports import RateDecision, RateLimiter
from axon.stores.redis_client import RedisGuard

PREFIX = "axon:rl:"

# KEYS[1] the set; ARGV: window ms, limit, unique member. Returns {allowed, count, reset ms}.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = window
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, count, reset}
"""


class RedisRateLimiter:
    def __init__(self, client: Redis, guard: RedisGuard, fallback: RateLimiter) -> None:
        self._redis = client
        self._guard = guard
        self._fallback = fallback
        self._script = client.register_script(_SLIDING_WINDOW)

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        window_ms = max(1, int(window_seconds * 1000))

        async def shared() -> RateDecision:
            allowed, count, reset_ms = await self._script(
                keys=[PREFIX + key], args=[window_ms, limit, secrets.token_hex(8)]
            )
            return RateDecision(
                allowed=bool(allowed),
                limit=limit,
                remaining=max(0, limit - int(count)),
                reset_after=max(0.0, int(reset_ms) / 1000),
            )

        async def local() -> RateDecision:
            return await self._fallback.hit(key, limit, window_seconds)

        return await self._guard.call("rate_limit", shared, local)

    async def close(self) -> None:
        await self._fallback.close()
