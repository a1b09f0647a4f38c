"""Services on MongoDB + Redis + Qdrant: wiring, start-up errors, drift repair with
`axon maintenance reconcile`, and readiness that follows MongoDB."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient
from typer.testing import CliRunner

from axon.cli import app
from axon.config import Settings, load_settings
from axon.errors import ServiceUnavailable
from axon.models import Context, ContextType, JobState, Workspace, WorkspaceType, content_hash
from axon.ports import ContextFilter, SearchRequest
from axon.services import build_services
from tests import servers
from tests.conftest import LiveServer, poll_ready
from tests.servers import RunningServer, free_port


def _ctx(cid: str, text: str, **kw: object) -> Context:
    return Context(
        id=cid,
        workspace_id="proj",
        type=ContextType.SYMBOL,
        path=f"src/{cid}.py",
        symbol=cid,
        content=text,
        content_hash=content_hash(text),
        **kw,
    )


@pytest.fixture
def production_env(
    settings: Settings,
    mongo_server: RunningServer,
    redis_server: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    env = {
        "MONGODB_URI": f"mongodb://127.0.0.1:{mongo_server.port}/svc_{uuid.uuid4().hex[:10]}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/5",
        "QDRANT_URL": f"path:{tmp_path / 'qdrant'}",
        "AXON_EMBEDDER": "none",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


async def test_all_three_backends_are_used_and_reported(production_env: dict[str, str]) -> None:
    services = await build_services(load_settings())
    try:
        assert type(services.store).__name__ == "MongoDocumentStore"
        assert type(services.cache).__name__ == "RedisCache"
        statuses = await services.health.statuses()
        assert statuses == {"mongodb": "connected", "redis": "connected", "qdrant": "connected"}
    finally:
        await services.close()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MONGODB_URI", "mongodb://127.0.0.1:{port}/x?serverSelectionTimeoutMS=300", "MongoDB"),
        ("QDRANT_URL", "http://127.0.0.1:{port}", "Qdrant"),
    ],
)
async def test_a_set_but_unreachable_backend_fails_start_up(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value.format(port=free_port()))
    with pytest.raises(ServiceUnavailable, match=f"{message} at {name} is unreachable"):
        await build_services(load_settings())


async def test_maintenance_reconcile_repairs_drift_in_both_directions(
    production_env: dict[str, str],
) -> None:
    old = datetime.now(UTC) - timedelta(days=120)
    services = await build_services(load_settings())
    try:
        await services.store.create_workspace(
            Workspace(id="proj", name="proj", type=WorkspaceType.CODING)
        )
        indexed = [
            _ctx("parse_config", "def parse_config(path): read the yaml settings file"),
            _ctx("stale_helper", "def stale_helper(): legacy yaml shim", created_at=old),
        ]
        await services.store.put_contexts(indexed)
        await services.search_index.index(indexed)
        # A crash between the store write and the index write: stored, never indexed.
        await services.store.put_contexts(
            [_ctx("load_yaml", "def load_yaml(text): parse yaml into a dict")]
        )
    finally:
        await services.close()
    # The runbook's clean-up deletes straight in MongoDB, behind the index's back.
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(production_env["MONGODB_URI"])
    gone = await client.get_default_database().contexts.delete_many(
        {"createdAt": {"$lt": datetime.now(UTC) - timedelta(days=90)}, "usageCount": {"$lt": 5}}
    )
    await client.close()
    assert gone.deleted_count == 1

    # The CLI runs its own event loop: give it a thread.
    result = await asyncio.to_thread(CliRunner().invoke, app, ["maintenance", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "proj: indexed 1, removed 1, unchanged 1" in result.output
    again = await asyncio.to_thread(
        CliRunner().invoke, app, ["maintenance", "reconcile", "--workspace", "proj"]
    )
    assert "proj: indexed 0, removed 0, unchanged 2" in again.output

    services = await build_services(load_settings())
    try:
        hits = await services.retriever.search(SearchRequest(query="yaml", workspace_id="proj"))
        assert sorted(h.context.id for h in hits) == ["load_yaml", "parse_config"]
        assert await services.store.count_contexts(ContextFilter(workspace_id="proj")) == 2
    finally:
        await services.close()


@pytest.fixture
def own_mongo() -> Iterator[RunningServer]:
    """A MongoDB test server for one test, free to be stopped."""
    with servers.mongo_server() as server:
        if server is None:
            pytest.skip("the MongoDB test server is not installed")
        yield server


async def test_readiness_follows_mongodb_without_a_restart(
    settings: Settings, own_mongo: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{own_mongo.port}/ready")
    monkeypatch.setenv("AXON_AUTH", "off")
    monkeypatch.setenv("AXON_EMBEDDER", "none")
    with LiveServer(load_settings()) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
            await poll_ready(http, 200, within=2)
            own_mongo.stop()
            body = await poll_ready(http, 503, within=2)
            assert "mongodb" in body["failing"]  # type: ignore[operator]
            health = (await http.get("/health")).json()
            assert health["services"]["mongodb"] == "disconnected"
            # A request that needs the store now is a retryable 503, not a 500.
            lost = await http.get("/api/v1/workspaces", timeout=15)
            assert lost.status_code == 503, lost.text
            assert lost.json()["error"]["code"] == "MONGODB_UNAVAILABLE"
            assert lost.headers["retry-after"] == "5"
            own_mongo.start()
            await poll_ready(http, 200, within=2)


async def test_axon_worker_process_runs_a_scan_the_api_enqueued(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    """The real `axon worker` command, in its own process, knows the API's job kinds."""
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "app.py").write_text("def handler(event):\n    return event['body']\n")
    services = await build_services(load_settings())
    try:
        await services.store.create_workspace(
            Workspace(id="proj", name="proj", type=WorkspaceType.CODING, path=str(folder))
        )
        job = await services.jobs.submit("scan", {"full": False}, "proj")
    finally:
        await services.close()
    worker = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("axon")), "worker", "--burst", env={**os.environ}
    )
    assert await asyncio.wait_for(worker.wait(), 60) == 0
    services = await build_services(load_settings())
    try:
        done = await services.store.get_job(job.id)
        assert done is not None and done.state is JobState.SUCCEEDED, done
        assert done.result is not None and done.result["contextsWritten"] >= 1
    finally:
        await services.close()
