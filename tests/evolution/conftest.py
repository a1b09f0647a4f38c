"""The evolution layer over the real services, on SQLite and on the MongoDB test server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.services import Services, build_services


@pytest.fixture(params=["sqlite", "mongodb"])
async def services(
    request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    chosen = settings
    if request.param == "mongodb":
        server = request.getfixturevalue("mongo_server")
        uri = f"mongodb://127.0.0.1:{server.port}/evolution_{uuid.uuid4().hex}"
        monkeypatch.setenv("MONGODB_URI", uri)
        monkeypatch.setenv("AXON_AUTH", "off")  # auth turns on by itself with MongoDB
        chosen = load_settings()
    built = await build_services(chosen)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
        yield http


async def workspace(client: httpx.AsyncClient, wid: str = "proj") -> str:
    response = await client.post("/api/v1/workspaces", json={"id": wid, "name": wid})
    assert response.status_code == 201, response.text
    return wid


async def remember(client: httpx.AsyncClient, wid: str, text: str, **fields: Any) -> dict[str, Any]:
    body = {"workspaceId": wid, "type": "decision", "content": text, **fields}
    response = await client.post("/api/v1/contexts", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def search(
    client: httpx.AsyncClient, wid: str, query: str, **fields: Any
) -> list[dict[str, Any]]:
    body = {"workspaceId": wid, "query": query, **fields}
    response = await client.post("/api/v1/contexts/search", json=body)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results
