"""Edges of the HTTP contract: unexpected errors, refusals before routing, HEAD, and
which rate-limit bucket a request spends."""

from __future__ import annotations

import logging

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings
from tests.conftest import LiveServer
from tests.test_api_foundation import assert_error

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy")


def assert_secured(resp: httpx.Response) -> None:
    for name in SECURITY_HEADERS:
        assert name in resp.headers, (name, resp.status_code)


async def test_an_unexpected_error_is_our_500_with_its_request_id_logged_once(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    async def broken() -> None:
        raise RuntimeError("a bug in a handler")

    app.add_api_route("/api/v1/test-broken", broken, methods=["GET"])
    with LiveServer(settings, app) as server, caplog.at_level(logging.ERROR):
        async with httpx.AsyncClient(base_url=server.url) as http:
            resp = await http.get("/api/v1/test-broken", headers={"X-Request-Id": "req-500"})
    assert_error(resp, 500, "INTERNAL_ERROR")
    assert resp.json()["error"]["requestId"] == "req-500"
    assert_secured(resp)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]
    assert "a bug in a handler" in tracebacks[0].getMessage()


async def test_refusals_before_routing_carry_the_security_headers(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    too_large = await client.post(
        "/api/v1/workspaces",
        content=b"x" * (settings.max_body_bytes + 1),
        headers={"content-type": "application/json"},
    )
    assert_error(too_large, 413, "PAYLOAD_TOO_LARGE")
    assert_secured(too_large)
    not_json = await client.post(
        "/api/v1/workspaces", content=b"id=x", headers={"content-type": "text/plain"}
    )
    assert_error(not_json, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_secured(not_json)


async def test_head_answers_wherever_get_does_without_a_body(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        for path in ("/health", "/api/v1/workspaces", "/openapi.json"):
            got = await http.get(path)
            head = await http.head(path)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"]
            if path == "/health":  # its timings change between calls, and their width too
                assert int(head.headers["content-length"]) > 0
            else:
                assert head.headers["content-length"] == got.headers["content-length"]
            assert_secured(head)
        missing = await http.head("/api/v1/workspaces/nope")
        assert missing.status_code == 404 and missing.content == b""
        post_only = await http.head("/api/v1/prompts/process")
        assert post_only.status_code == 405


async def test_polling_a_gate_run_spends_the_normal_bucket_not_the_expensive_one(
    settings: Settings,
) -> None:
    from axon.services import build_services

    limited = settings.model_copy(
        update={"rate_limits": "on", "rate_limit": "100/15m", "rate_limit_expensive": "2/15m"}
    )
    services = await build_services(limited)
    try:
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            polls = [
                (await http.get("/api/v1/quality-gate/runs/job_unknown")).status_code
                for _ in range(5)
            ]
            assert polls == [404] * 5
            # Starting runs still spends the expensive bucket.
            starts = [
                (await http.post("/api/v1/quality-gate/execute", json={})).status_code
                for _ in range(3)
            ]
            assert starts[-1] == 429 and 429 not in starts[:2]
    finally:
        await services.close()
