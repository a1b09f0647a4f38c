"""Bad-key floods: failed authentications are limited per client address, before auth."""

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

BAD = "axon_0123456789abcdef_" + "A" * 43  # well-formed, unknown


async def test_a_bad_key_flood_gets_429_after_the_limit(settings: Settings) -> None:
    await _flood(settings, None)


async def test_the_flood_limit_is_shared_through_redis(settings: Settings, redis: Redis) -> None:
    await _flood(settings, RedisRateLimiter(redis, RedisGuard(), InProcessRateLimiter()))
    assert await redis.keys("*authfail:ip:*")


async def _flood(settings: Settings, limiter: RateLimiter | None) -> None:
    # General rate limits off: the failure limit applies on its own. The in-process
    # client's address is 127.0.0.1, trusted here as a proxy to test X-Forwarded-For.
    on = settings.model_copy(
        update={
            "auth": "on",
            "rate_limits": "off",
            "auth_failure_limit": "10/1m",
            "trusted_proxies": "127.0.0.1/32",
        }
    )
    services = await build_services(on)
    if limiter is not None:
        services.rate_limiter = limiter
    record, token = new_api_key("good", [ApiScope.READ])
    await services.store.create_api_key(record)
    transport = httpx.ASGITransport(app=create_app(services=services))
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            codes = []
            for i in range(150):
                headers = {**attacker, "X-API-Key": BAD} if i % 2 else attacker  # none or bad
                codes.append((await http.get("/api/v1/workspaces", headers=headers)).status_code)
            assert codes[:10] == [401] * 10 and codes[10:] == [429] * 140
            refused = await http.get("/api/v1/workspaces", headers={**attacker, "X-API-Key": BAD})
            assert refused.json()["error"]["code"] == "AUTH_FAILURES_LIMITED"
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            # Refused before authentication: even a good key from that address waits.
            locked = await http.get("/api/v1/workspaces", headers={**attacker, "X-API-Key": token})
            assert locked.status_code == 429
            # Other addresses are not affected, and probes stay open.
            other = {"X-Forwarded-For": "198.51.100.2"}
            assert (await http.get("/api/v1/workspaces", headers=other)).status_code == 401
            ok = await http.get("/api/v1/workspaces", headers={**other, "X-API-Key": token})
            assert ok.status_code == 200
            assert (await http.get("/health/live", headers=attacker)).status_code == 200
    finally:
        await services.close()


async def test_a_spoofed_forwarded_for_does_not_evade_the_limit(settings: Settings) -> None:
    on = settings.model_copy(
        update={"auth": "on", "rate_limits": "off", "auth_failure_limit": "5/1m"}
    )
    services = await build_services(on)  # no trusted proxies: the peer address counts
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            codes = [
                (
                    await http.get(
                        "/api/v1/workspaces",
                        headers={"X-API-Key": BAD, "X-Forwarded-For": f"10.0.0.{i}"},
                    )
                ).status_code
                for i in range(8)
            ]
            assert codes == [401] * 5 + [429] * 3
    finally:
        await services.close()
