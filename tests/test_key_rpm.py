"""A key's own requests-per-minute limit, through the RateLimiter port (in-process and Redis)."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from axon.api.app import create_app
from axon.config import Settings
from axon.models import ApiScope
from axon.ports import RateLimiter
from axon.security.keys import new_api_key
from axon.services import build_services
from axon.stores.memory_ratelimit import InProcessRateLimiter
from axon.stores.redis_client import RedisGuard
from axon.stores.redis_ratelimit import RedisRateLimiter


async def test_a_key_past_its_rpm_gets_429_with_retry_after(settings: Settings) -> None:
    await _check_rpm(settings, None)


async def test_the_rpm_limit_works_with_the_redis_limiter(settings: Settings, redis: Redis) -> None:
    await _check_rpm(settings, RedisRateLimiter(redis, RedisGuard(), InProcessRateLimiter()))
    assert await redis.keys("*rpm:key:*")  # counted in Redis, shared by replicas


async def _check_rpm(settings: Settings, limiter: RateLimiter | None) -> None:
    # General limits off: the key's own limit applies regardless.
    services = await build_services(
        settings.model_copy(update={"auth": "on", "rate_limits": "off"})
    )
    if limiter is not None:
        services.rate_limiter = limiter
    limited, limited_token = new_api_key("bot", [ApiScope.READ], rpm=3)
    free, free_token = new_api_key("free", [ApiScope.READ])
    for record in (limited, free):
        await services.store.create_api_key(record)
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            headers = {"X-API-Key": limited_token}
            codes = [
                (await http.get("/api/v1/workspaces", headers=headers)).status_code
                for _ in range(4)
            ]
            assert codes == [200, 200, 200, 429]
            refused = await http.get("/api/v1/workspaces", headers=headers)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "KEY_RPM_EXCEEDED"
            assert "3 requests per minute" in refused.json()["error"]["message"]
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert refused.headers["x-request-id"]
            # Another key is not affected.
            other = await http.get("/api/v1/workspaces", headers={"X-API-Key": free_token})
            assert other.status_code == 200
    finally:
        await services.close()
