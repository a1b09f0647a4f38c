"""Shared fixtures: settings on a temporary data dir, services, the app in-process
and as a real uvicorn server, and session-wide real redis / MongoDB servers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.services import Services, build_services
from axon.stores.redis_client import redis_client
from tests import servers


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "axon-data"
    path.mkdir()
    return path


@pytest.fixture
def settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # Tests never see the developer's own backends or keys.
    for name in (
        "MONGODB_URI",
        "REDIS_URL",
        "QDRANT_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "LLM_PROVIDER",
        "DEFAULT_MODEL",
        "OLLAMA_BASE_URL",
        "OPENAI_BASE_URL",
        "AXON_EMBEDDER",
        "AXON_EMBEDDING_MODEL",
        "AXON_EMBEDDING_DIMENSION",
        "AXON_MODEL_DIR",
        "AXON_AUTO_CREATE_WORKSPACES",
        "MAX_PROMPT_CHARS",
        "MAX_TOKEN_LIMIT",
        "AXON_RESPONSE_RESERVE_TOKENS",
        "ANTHROPIC_BASE_URL",
        "OPENAI_ORGANIZATION",
        "OPENAI_ORG_ID",
        "OPENAI_COMPATIBLE_BASE_URL",
        "OPENAI_COMPATIBLE_API_KEY",
        "LLM_FALLBACKS",
        "LLM_RATE_LIMITS",
        "LLM_PRICES",
        "LLM_CACHE_TTL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AXON_DATA_DIR", str(data_dir))
    return load_settings()


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process over ASGI."""
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
        yield http


class LiveServer:
    """A real uvicorn server on a free port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.port = servers.free_port()
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        servers.wait_for_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.RunningServer]:
    with servers.redis_server() as server:
        if server is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        yield server


@pytest.fixture
async def redis(redis_server: servers.RunningServer) -> AsyncIterator[Redis]:
    """A client on an emptied database of the session's redis-server."""
    client = redis_client(f"redis://127.0.0.1:{redis_server.port}/9", 4)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[servers.RunningServer]:
    with servers.mongo_server() as server:
        if server is None:
            pytest.skip("the MongoDB test server is not installed (pip install secantusdb)")
        yield server


async def poll_ready(http: httpx.AsyncClient, status: int, within: float) -> dict[str, Any]:
    """Poll /health/ready until it answers `status`; fail after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        response = await http.get("/health/ready")
        if response.status_code == status:
            return dict(response.json())
        assert loop.time() < deadline, f"/health/ready still {response.status_code}"
        await asyncio.sleep(0.05)
