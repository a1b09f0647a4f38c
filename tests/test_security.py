"""API keys, scopes, rate limits, client addresses, security headers and CORS."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from axon.api.app import create_app
from axon.api.security import client_ip, required_scope
from axon.cli import app as cli
from axon.config import Settings, SettingsError, load_settings
from axon.models import ApiScope, utcnow
from axon.security.keys import new_api_key
from axon.security.ratelimit import Rate
from axon.services import Services, build_services
from axon.stores.memory_ratelimit import InProcessRateLimiter
from tests.clock import ManualClock


async def _client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    services = await build_services(settings)
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            yield http, services
    finally:
        await services.close()


@pytest.fixture
async def secured(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    on = settings.model_copy(update={"auth": "on", "rate_limits": "off"})
    async for pair in _client(on):
        yield pair


async def _key(services: Services, *scopes: ApiScope) -> str:
    record, token = new_api_key("test", scopes)
    await services.store.create_api_key(record)
    return token


async def test_auth_auto_is_off_only_for_loopback_embedded(settings: Settings) -> None:
    assert settings.host == "127.0.0.1" and not settings.auth_enabled
    assert settings.model_copy(update={"host": "0.0.0.0"}).auth_enabled
    assert settings.model_copy(update={"redis_url": "redis://r:6379"}).auth_enabled
    assert not settings.model_copy(update={"host": "0.0.0.0", "auth": "off"}).auth_enabled
    assert settings.model_copy(update={"auth": "on"}).rate_limits_enabled


def test_bad_security_settings_name_the_variable(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="AXON_RATE_LIMIT"):
        load_settings(rate_limit="lots")
    with pytest.raises(SettingsError, match="AXON_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.0/8, not-a-net")


async def test_missing_and_bad_keys_get_401(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = secured
    r = await http.get("/api/v1/workspaces")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "UNAUTHORIZED"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["x-request-id"]
    token = await _key(services, ApiScope.READ)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for headers in ({"Authorization": f"Bearer {forged}"}, {"X-API-Key": "nonsense"}):
        assert (await http.get("/api/v1/workspaces", headers=headers)).status_code == 401
    # Probes and /metrics stay open for orchestrators and Prometheus.
    for path in ("/health", "/health/ready", "/health/live", "/api/v1/health", "/metrics"):
        assert (await http.get(path)).status_code == 200, path


async def test_scopes_read_write_admin(secured: tuple[httpx.AsyncClient, Services]) -> None:
    http, services = secured
    read = {"Authorization": f"Bearer {await _key(services, ApiScope.READ)}"}
    write = {"X-API-Key": await _key(services, ApiScope.WRITE)}
    admin = {"X-API-Key": await _key(services, ApiScope.ADMIN)}
    body = {"name": "Demo", "type": "coding", "id": "demo"}

    assert (await http.get("/api/v1/workspaces", headers=read)).status_code == 200
    refused = await http.post("/api/v1/workspaces", json=body, headers=read)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert await services.store.get_workspace("demo") is None  # nothing was written
    assert (await http.post("/api/v1/workspaces", json=body, headers=write)).status_code == 201
    # Questions are POSTs too: a read key may search and process prompts.
    search = {"query": "demo", "workspaceId": "demo"}
    assert (
        await http.post("/api/v1/contexts/search", json=search, headers=read)
    ).status_code == 200
    prompt = {"prompt": "What is this?", "workspaceId": "demo", "source": "api"}
    assert (
        await http.post("/api/v1/prompts/process", json=prompt, headers=read)
    ).status_code == 200
    assert (await http.get("/admin/heapdump", headers=write)).status_code == 403
    # admin includes write and read; heap dumps are off unless enabled.
    assert (await http.delete("/api/v1/workspaces/demo", headers=admin)).status_code == 204
    assert (await http.get("/admin/heapdump", headers=admin)).status_code == 404


async def test_revoked_and_expired_keys_stop_working(settings: Settings) -> None:
    on = settings.model_copy(update={"auth": "on", "rate_limits": "off", "auth_cache_seconds": 0})
    async for http, services in _client(on):
        token = await _key(services, ApiScope.READ)
        headers = {"X-API-Key": token}
        assert (await http.get("/api/v1/workspaces", headers=headers)).status_code == 200
        key_id = token.split("_")[1]
        await services.store.revoke_api_key(key_id, utcnow())
        assert (await http.get("/api/v1/workspaces", headers=headers)).status_code == 401

        expired, expired_token = new_api_key("old", [ApiScope.READ], utcnow())
        await services.store.create_api_key(expired)
        r = await http.get("/api/v1/workspaces", headers={"X-API-Key": expired_token})
        assert r.status_code == 401


async def test_rate_limit_returns_429_with_retry_after(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"auth": "off", "rate_limits": "on", "rate_limit": "3/15m"}
    )
    async for http, _ in _client(limited):
        for i in range(3):
            r = await http.get("/api/v1/workspaces")
            assert r.status_code == 200
            assert r.headers["x-ratelimit-remaining"] == str(2 - i)
        r = await http.get("/api/v1/workspaces")
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "RATE_LIMITED"
        assert 1 <= int(r.headers["retry-after"]) <= 900
        # Probes and metrics are never limited.
        assert (await http.get("/health/live")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200


async def test_expensive_routes_have_the_stricter_limit(settings: Settings) -> None:
    limited = settings.model_copy(
        update={
            "auth": "on",
            "rate_limits": "on",
            "rate_limit": "100/15m",
            "rate_limit_expensive": "2/1m",
        }
    )
    async for http, services in _client(limited):
        first = {"X-API-Key": await _key(services, ApiScope.READ)}
        second = {"X-API-Key": await _key(services, ApiScope.READ)}
        body = {"prompt": "hi", "workspaceId": "w", "source": "api"}
        statuses = [
            (await http.post("/api/v1/prompts/process", json=body, headers=first)).status_code
            for _ in range(3)
        ]
        assert 429 not in statuses[:2] and statuses[2] == 429
        # The limit is per key: another key, and cheap routes, still pass.
        r = await http.post("/api/v1/prompts/process", json=body, headers=second)
        assert r.status_code != 429
        assert (await http.get("/api/v1/workspaces", headers=first)).status_code == 200


async def test_in_process_limiter_windows() -> None:
    clock = ManualClock()
    limiter = InProcessRateLimiter(clock=clock)
    decisions = [await limiter.hit("k", 2, 0.05) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[2].remaining == 0 and 0 < decisions[2].reset_after <= 0.05
    clock.advance(0.04)
    assert not (await limiter.hit("k", 2, 0.05)).allowed
    clock.advance(0.02)
    assert (await limiter.hit("k", 2, 0.05)).allowed
    assert (await limiter.hit("other", 2, 0.05)).remaining == 1


def test_rate_parsing() -> None:
    assert Rate.parse("100/15m") == Rate(100, 900.0)
    assert Rate.parse("10/s") == Rate(10, 1.0)
    for bad in ("0/1m", "ten/m", "5/0m", "5/1w", ""):
        with pytest.raises(ValueError):
            Rate.parse(bad)


def test_forwarded_for_is_trusted_only_from_configured_proxies() -> None:
    trusted = [ipaddress.ip_network("10.0.0.0/8")]
    # A direct client cannot choose its address.
    assert client_ip("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    # Behind a trusted proxy the right-most untrusted hop is the client.
    assert client_ip("10.0.0.2", "1.2.3.4, 198.51.100.7", trusted) == "198.51.100.7"
    assert client_ip("10.0.0.2", "198.51.100.7, 10.0.0.5", trusted) == "198.51.100.7"
    assert client_ip("10.0.0.2", None, trusted) == "10.0.0.2"
    assert client_ip("10.0.0.2", "1.2.3.4", []) == "10.0.0.2"


def test_required_scopes() -> None:
    assert required_scope("GET", "/api/v1/workspaces") is ApiScope.READ
    assert required_scope("POST", "/api/v1/prompts/process") is ApiScope.READ
    assert required_scope("POST", "/api/v1/workspaces") is ApiScope.WRITE
    assert required_scope("DELETE", "/api/v1/contexts/x") is ApiScope.WRITE
    assert required_scope("GET", "/admin/heapdump") is ApiScope.ADMIN


async def test_security_headers_and_cors(settings: Settings) -> None:
    cors = settings.model_copy(update={"cors_origins": "https://app.example.com"})
    async for http, _ in _client(cors):
        r = await http.get("/health")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        allowed = await http.options(
            "/api/v1/workspaces",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        other = await http.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_keys_cli_create_list_revoke(settings: Settings, data_dir: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "ci-bot", "--scope", "write", "--json"])
    assert created.exit_code == 0, created.output
    import json

    data = json.loads(created.stdout)
    assert data["key"].startswith("axon_") and "keyHash" not in data
    assert data["scopes"] == ["write"]
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [data["id"]]
    assert data["key"] not in listed.stdout and "keyHash" not in listed.stdout
    revoked = runner.invoke(cli, ["keys", "revoke", data["id"]])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    missing = runner.invoke(cli, ["keys", "revoke", "ffffffffffffffff"])
    assert missing.exit_code == 1 and "no API key" in missing.output
    bad = runner.invoke(cli, ["keys", "create", "x", "--scope", "root"])
    assert bad.exit_code == 2


async def test_keys_never_reach_the_log(
    secured: tuple[httpx.AsyncClient, Services], caplog: pytest.LogCaptureFixture
) -> None:
    http, services = secured
    token = await _key(services, ApiScope.READ)
    with caplog.at_level(logging.DEBUG):
        await http.get("/api/v1/workspaces", headers={"Authorization": f"Bearer {token}"})
        await http.get("/api/v1/workspaces", headers={"X-API-Key": token + "x"})
        await http.get("/api/v1/workspaces/missing", headers={"X-API-Key": token})
    assert caplog.records, "the access log wrote its lines"
    secret = token.split("_", 2)[2]
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.__dict__)
