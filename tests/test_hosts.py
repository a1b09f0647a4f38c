"""DNS rebinding and cross-site changes: only allowed Host headers, and only allowed
Origins on state-changing requests, with auth off on loopback (the default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings, SettingsError, load_settings
from axon.security.hosts import LOCAL_HOSTS, allowed_hosts, host_allowed, host_name
from axon.services import Services, build_services
from tests.conftest import LiveServer

Client = tuple[httpx.AsyncClient, Services]


async def _client(settings: Settings) -> AsyncIterator[Client]:
    services = await build_services(settings)
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:3000") as http:
            yield http, services
    finally:
        await services.close()


@pytest.fixture
async def default(settings: Settings) -> AsyncIterator[Client]:
    """The shipped defaults: auth off on loopback, AXON_ALLOWED_HOSTS unset."""
    plain = settings.model_copy(update={"allowed_hosts": ""})
    assert not plain.auth_enabled
    async for pair in _client(plain):
        yield pair


def _refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["requestId"] == r.headers["x-request-id"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_a_rebound_host_is_refused(default: Client) -> None:
    http, services = default
    for host in (
        "evil.example:3000",
        "evil.example",
        "localhost.evil.example",
        "10.0.0.7:3000",
        "",
    ):
        _refused(
            await http.get("/api/v1/workspaces", headers={"Host": host}), 400, "HOST_NOT_ALLOWED"
        )
        body = {"id": "pwned", "name": "pwned"}
        r = await http.post("/api/v1/workspaces", json=body, headers={"Host": host})
        _refused(r, 400, "HOST_NOT_ALLOWED")
        _refused(await http.get("/docs", headers={"Host": host}), 400, "HOST_NOT_ALLOWED")
    assert await services.store.get_workspace("pwned") is None
    for host in ("localhost:3000", "LOCALHOST", "127.0.0.1:3000", "[::1]:3000", "app.localhost"):
        r = await http.get("/api/v1/workspaces", headers={"Host": host})
        assert r.status_code == 200, host
    # Probes and metrics answer whatever the Host: Kubernetes sends the pod address.
    for path in ("/health/live", "/health/ready", "/api/v1/health", "/metrics"):
        assert (await http.get(path, headers={"Host": "10.244.1.17:3000"})).status_code == 200


async def test_a_cross_site_change_is_refused(default: Client) -> None:
    http, services = default
    for origin in ("http://evil.example", "https://localhost.evil.example", "null", "file://"):
        body = {"id": "csrf", "name": "csrf"}
        r = await http.post("/api/v1/workspaces", json=body, headers={"Origin": origin})
        _refused(r, 403, "ORIGIN_NOT_ALLOWED")
        r = await http.post(
            "/api/v1/prompts/process",
            json={"prompt": "hi", "workspaceId": "csrf"},
            headers={"Origin": origin},
        )
        _refused(r, 403, "ORIGIN_NOT_ALLOWED")
    assert await services.store.get_workspace("csrf") is None
    # Reads are CORS's business; local pages and clients without Origin may change things.
    assert (
        await http.get("/api/v1/workspaces", headers={"Origin": "http://evil.example"})
    ).status_code == 200
    r = await http.post(
        "/api/v1/workspaces",
        json={"id": "ok", "name": "ok"},
        headers={"Origin": "http://localhost:5173"},
    )
    assert r.status_code == 201
    assert (
        await http.post("/api/v1/workspaces", json={"id": "ok2", "name": "n"})
    ).status_code == 201


async def test_configured_hosts_and_cors_origins(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "allowed_hosts": "axon.example.com,*.corp.example",
            "cors_origins": "https://app.example.org",
        }
    )
    async for http, _ in _client(configured):
        for host, status in [
            ("axon.example.com", 200),
            ("a.b.corp.example:8443", 200),
            ("corp.example", 400),
            ("localhost:3000", 400),  # a configured list replaces the defaults
        ]:
            r = await http.get("/api/v1/workspaces", headers={"Host": host})
            assert r.status_code == status, host
        headers = {"Host": "axon.example.com", "Origin": "https://app.example.org"}
        r = await http.post("/api/v1/workspaces", json={"id": "a", "name": "a"}, headers=headers)
        assert r.status_code == 201
        headers["Origin"] = "https://other.example.org"
        r = await http.post("/api/v1/workspaces", json={"id": "b", "name": "b"}, headers=headers)
        assert r.status_code == 403
    everything = settings.model_copy(update={"allowed_hosts": "*"})
    async for http, _ in _client(everything):
        r = await http.get("/api/v1/workspaces", headers={"Host": "anything.example"})
        assert r.status_code == 200


def test_the_default_list_and_host_parsing() -> None:
    assert allowed_hosts([], "127.0.0.1") == LOCAL_HOSTS
    assert allowed_hosts([], "0.0.0.0") == LOCAL_HOSTS  # a wildcard bind adds nothing
    assert allowed_hosts([], "192.168.1.5") == (*LOCAL_HOSTS, "192.168.1.5")
    assert allowed_hosts(["Axon.Example.com."], "0.0.0.0") == ("axon.example.com",)
    assert host_name("[::1]:3000") == "::1" and host_name("Example.COM.:80") == "example.com"
    for bad in ("", "a:b", "[::1", "[::1]x", "ex ample.com", "a@b", "*"):
        assert host_name(bad) is None, bad
    assert not host_allowed("notlocalhost", LOCAL_HOSTS)
    assert host_allowed("x.localhost", LOCAL_HOSTS)


def test_bad_allowed_hosts_name_the_variable(settings: Settings) -> None:
    for bad in ("http://axon.example.com", "axon.example.com/", "a b"):
        with pytest.raises(SettingsError, match="AXON_ALLOWED_HOSTS"):
            load_settings(allowed_hosts=bad)


async def test_a_real_server_refuses_a_foreign_host(settings: Settings) -> None:
    with LiveServer(settings.model_copy(update={"allowed_hosts": ""})) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            assert (await http.get("/api/v1/workspaces")).status_code == 200  # 127.0.0.1:port
            r = await http.get("/api/v1/workspaces", headers={"Host": "rebound.example"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "HOST_NOT_ALLOWED"
