"""The foundation API: probes, workspaces, contexts and the error contract."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from axon.config import Settings
from tests.conftest import LiveServer


def assert_error(resp: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert err["code"] == code
    assert err["message"]
    assert err["requestId"] == resp.headers["x-request-id"]
    if field is not None:
        assert field in [d["field"] for d in err["details"]], err["details"]


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
async def test_probes(client: httpx.AsyncClient, prefix: str) -> None:
    resp = await client.get(f"{prefix}/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["timestamp"].endswith("Z") and "T" in body["timestamp"]
    assert isinstance(body["uptime"], float | int) and body["uptime"] >= 0
    assert body["services"] == {"mongodb": "embedded", "redis": "embedded", "qdrant": "embedded"}
    ready = await client.get(f"{prefix}/health/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    live = await client.get(f"{prefix}/health/live")
    assert live.status_code == 200 and live.json()["status"] == "ok"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    resp = await client.get("/health", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health", headers={"X-Request-Id": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_workspace_lifecycle(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/v1/workspaces",
        json={"id": "my-project", "name": "My Project", "type": "coding", "path": "/tmp/x"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["id"] == "my-project"
    generated = await client.post("/api/v1/workspaces", json={"name": "Notes Vault", "type": "pkm"})
    assert generated.json()["id"] == "notes-vault"
    again = await client.post("/api/v1/workspaces", json={"name": "Notes Vault", "type": "pkm"})
    assert again.status_code == 201 and again.json()["id"].startswith("notes-vault-")

    got = await client.get("/api/v1/workspaces/my-project")
    assert got.json()["name"] == "My Project" and got.json()["path"] == "/tmp/x"
    patched = await client.patch("/api/v1/workspaces/my-project", json={"name": "Renamed"})
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"

    first = await client.get("/api/v1/workspaces", params={"limit": 2})
    assert len(first.json()["items"]) == 2 and first.json()["nextCursor"]
    second = await client.get(
        "/api/v1/workspaces", params={"limit": 2, "cursor": first.json()["nextCursor"]}
    )
    assert len(second.json()["items"]) == 1 and second.json()["nextCursor"] is None

    ctx = await client.post(
        "/api/v1/contexts",
        json={"workspaceId": "my-project", "type": "decision", "content": "Use ruff."},
    )
    assert ctx.status_code == 201
    assert (await client.delete("/api/v1/workspaces/my-project")).status_code == 204
    assert_error(await client.get("/api/v1/workspaces/my-project"), 404, "WORKSPACE_NOT_FOUND")
    assert_error(await client.get(f"/api/v1/contexts/{ctx.json()['id']}"), 404, "CONTEXT_NOT_FOUND")


async def test_context_lifecycle(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    resp = await client.post(
        "/api/v1/contexts",
        json={
            "workspaceId": "ws",
            "tier": "hybrid",
            "type": "decision",
            "title": "Formatter",
            "content": "We format with ruff format, line length 100.",
            "metadata": {"source": "meeting"},
        },
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["tier"] == "hybrid" and body["tokenCount"] > 5 and len(body["contentHash"]) == 64
    assert body["usageCount"] == 0 and body["createdAt"].endswith("Z")
    cid = body["id"]
    listed = await client.get("/api/v1/contexts", params={"workspaceId": "ws", "tier": "hybrid"})
    assert [c["id"] for c in listed.json()["items"]] == [cid]
    none = await client.get("/api/v1/contexts", params={"workspaceId": "ws", "type": "note"})
    assert none.json()["items"] == []
    patched = await client.patch(f"/api/v1/contexts/{cid}", json={"content": "Use black."})
    assert (
        patched.json()["content"] == "Use black."
        and patched.json()["contentHash"] != body["contentHash"]
    )
    assert (await client.delete(f"/api/v1/contexts/{cid}")).status_code == 204
    assert_error(await client.delete(f"/api/v1/contexts/{cid}"), 404, "CONTEXT_NOT_FOUND")


BAD_WORKSPACES: list[tuple[dict[str, Any], str]] = [
    ({"name": "x", "bogus": 1}, "bogus"),
    ({"name": ""}, "name"),
    ({}, "name"),
    ({"name": "x", "type": "wiki"}, "type"),
    ({"name": "x", "id": "has space"}, "id"),
    ({"name": "x", "id": "a" * 65}, "id"),
    ({"name": "x", "settings": "not-an-object"}, "settings"),
]


@pytest.mark.parametrize(("payload", "field"), BAD_WORKSPACES)
async def test_bad_workspace_input(
    client: httpx.AsyncClient, payload: dict[str, Any], field: str
) -> None:
    assert_error(
        await client.post("/api/v1/workspaces", json=payload), 422, "VALIDATION_ERROR", field
    )


async def test_transport_level_errors(client: httpx.AsyncClient, settings: Settings) -> None:
    url = "/api/v1/workspaces"
    assert_error(
        await client.post(url, content=b'{"name":', headers={"content-type": "application/json"}),
        400,
        "INVALID_JSON",
        "body",
    )
    assert_error(
        await client.post(url, content=b"name=x", headers={"content-type": "text/plain"}),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "content-type",
    )
    big = b'{"name": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    assert_error(
        await client.post(url, content=big, headers={"content-type": "application/json"}),
        413,
        "PAYLOAD_TOO_LARGE",
        "body",
    )
    assert_error(await client.get("/api/v1/workspaces/bad%20id"), 422, "VALIDATION_ERROR")
    assert_error(
        await client.get("/api/v1/workspaces", params={"limit": 0}),
        422,
        "VALIDATION_ERROR",
        "limit",
    )
    assert_error(
        await client.get("/api/v1/workspaces", params={"cursor": "%%%"}),
        422,
        "VALIDATION_ERROR",
        "cursor",
    )
    assert_error(await client.get("/api/v1/nope"), 404, "NOT_FOUND")
    assert_error(await client.put("/api/v1/workspaces", json={}), 405, "METHOD_NOT_ALLOWED")


async def test_body_limit_applies_to_chunked_uploads(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async def chunks() -> Any:
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b" " * 1024

    resp = await client.post(
        "/api/v1/workspaces", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


BAD_CONTEXTS: list[tuple[dict[str, Any], int, str]] = [
    ({"workspaceId": "ws", "type": "decision"}, 422, "content"),
    ({"workspaceId": "ws", "type": "bogus", "content": "x"}, 422, "type"),
    ({"workspaceId": "ws", "type": "note", "tier": "team", "content": "x"}, 422, "tier"),
    ({"workspaceId": "ws", "type": "note", "content": ""}, 422, "content"),
    ({"workspaceId": "nope", "type": "note", "content": "x"}, 404, "workspaceId"),
    (
        {"workspaceId": "ws", "type": "note", "content": "x", "startLine": 5, "endLine": 2},
        422,
        "endLine",
    ),
    ({"workspaceId": "ws", "type": "note", "content": "x", "confidence": 2}, 422, "confidence"),
]


@pytest.mark.parametrize(("payload", "status", "field"), BAD_CONTEXTS)
async def test_bad_context_input(
    client: httpx.AsyncClient, payload: dict[str, Any], status: int, field: str
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    resp = await client.post("/api/v1/contexts", json=payload)
    code = "VALIDATION_ERROR" if status == 422 else "WORKSPACE_NOT_FOUND"
    assert_error(resp, status, code, field)


async def test_context_filters_are_validated(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.get("/api/v1/contexts", params={"tier": "team"}),
        422,
        "VALIDATION_ERROR",
        "tier",
    )
    assert_error(
        await client.get("/api/v1/contexts", params={"workspaceId": "missing"}),
        404,
        "WORKSPACE_NOT_FOUND",
        "workspaceId",
    )


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/workspaces" in spec["paths"] and "/health" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


def test_data_survives_restart(settings: Settings) -> None:
    with LiveServer(settings) as server:
        httpx.post(f"{server.url}/api/v1/workspaces", json={"id": "keep", "name": "Keep"})
        httpx.post(
            f"{server.url}/api/v1/contexts",
            json={"workspaceId": "keep", "type": "note", "content": "remember me"},
        )
    assert settings.sqlite_path.exists()
    with LiveServer(settings) as server:
        assert httpx.get(f"{server.url}/api/v1/workspaces/keep").status_code == 200
        items = httpx.get(f"{server.url}/api/v1/contexts", params={"workspaceId": "keep"}).json()[
            "items"
        ]
        assert [c["content"] for c in items] == ["remember me"]
