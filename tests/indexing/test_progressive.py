"""Progressive indexing: lexical at once, vectors after, and nothing lost to a kill -9.

The embedder is the OpenAI adapter against a local fake server (deterministic
vectors), so the subprocesses embed for real without loading a model.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.indexing import EMBED_JOB
from axon.models import Workspace, WorkspaceType
from axon.ports import ContextFilter, EmbeddingStatus, SearchRequest
from axon.retrieval.search_index import HybridSearchIndex
from axon.services import Services, build_services
from tests.embeddings.fake_server import FakeEmbeddingServer, running_fake
from tests.indexing.conftest import (
    GENERATED_MODULE,
    generated_tree,
    kill_9_after,
    run_index,
    start_index,
)
from tests.indexing.test_scan_api import finished_job

DIMENSION = 64


@pytest.fixture
def fake() -> Iterator[FakeEmbeddingServer]:
    with running_fake() as server:
        yield server


@pytest.fixture
def embed_env(
    settings: Settings, fake: FakeEmbeddingServer, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment of an embedded install whose embedder is the fake server."""
    values = {
        "AXON_DATA_DIR": str(settings.data_dir),
        "AXON_EMBEDDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": f"{fake.url}/v1",
        "AXON_EMBEDDING_DIMENSION": str(DIMENSION),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL"):
        monkeypatch.delenv(name, raising=False)
    return {**os.environ, **values}


@pytest.fixture
async def embedding_services(embed_env: dict[str, str]) -> AsyncIterator[Services]:
    services = await build_services(load_settings())
    try:
        yield services
    finally:
        await services.close()


async def _completeness(services: Services, workspace_id: str) -> dict[str, int]:
    """Stored contexts without a lexical row of their content, and without a vector of it."""
    index = services.search_index
    assert isinstance(index, HybridSearchIndex)
    lexical = await index.lexical.fingerprints(workspace_id)
    vectors = await index.vectors.fingerprints(workspace_id)
    stored = {
        c.id: c.content_hash
        async for c in services.store.iter_contexts(ContextFilter(workspace_id=workspace_id))
    }
    return {
        "stored": len(stored),
        "lexicalMissing": sum(lexical.get(cid) != h for cid, h in stored.items()),
        "vectorsMissing": sum(vectors.get(cid) != h for cid, h in stored.items()),
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from axon.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_files_are_searchable_lexically_before_their_vectors(
    embedding_services: Services, tmp_path: Path, fake: FakeEmbeddingServer
) -> None:
    services = embedding_services
    root = generated_tree(tmp_path / "tree", 30)
    workspace = await services.store.create_workspace(
        Workspace(id="prog", name="prog", type=WorkspaceType.CODING, path=str(root))
    )
    [report] = await run_index(services, workspace)
    assert report.indexed == 30
    # Indexing itself embeds nothing: the files are searchable lexically already.
    assert not [r for r in fake.requests if r["path"] == "/v1/embeddings"]
    hits = await services.retriever.search(SearchRequest(query="function_17", workspace_id="prog"))
    assert hits and hits[0].context.symbol == "function_17"
    assert hits[0].breakdown.dense == 0
    status = await services.search_index.embedding_status("prog")
    stored = await services.store.count_contexts(ContextFilter(workspace_id="prog"))
    assert status == EmbeddingStatus(done=0, pending=stored)

    seen: list[EmbeddingStatus] = []

    async def progress(workspace_id: str, current: EmbeddingStatus) -> None:
        seen.append(current)

    final = await services.search_index.complete_embeddings("prog", progress)
    assert final == EmbeddingStatus(done=stored, pending=0)
    assert seen[0].pending == stored and seen[-1] == final
    assert await _completeness(services, "prog") == {
        "stored": stored,
        "lexicalMissing": 0,
        "vectorsMissing": 0,
    }
    # Dense search has joined in.
    hits = await services.retriever.search(SearchRequest(query="function_17", workspace_id="prog"))
    assert hits[0].context.symbol == "function_17" and hits[0].breakdown.dense > 0

    # A changed file: its new contexts wait again, with the old vector replaced after.
    (root / "pkg0" / "mod_3.py").write_text(GENERATED_MODULE.format(n=3) + "\nCHANGED = 1\n")
    await run_index(services, workspace)
    status = await services.search_index.embedding_status("prog")
    assert status.pending >= 1
    await services.search_index.complete_embeddings("prog")
    assert (await _completeness(services, "prog"))["vectorsMissing"] == 0


async def test_kill_9_mid_index_then_a_plain_run_completes_lexical_rows_and_vectors(
    embed_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    root = generated_tree(tmp_path / "many", 1200)
    proc = await start_index(embed_env, root, "big")
    services = await build_services(load_settings())
    try:
        await kill_9_after(proc, services, "big")
        after_kill = await _completeness(services, "big")
        # Every stored file is searchable lexically; vectors may lag (they come later).
        assert after_kill["lexicalMissing"] == 0, after_kill
        assert after_kill["vectorsMissing"] > 0, after_kill
        dry = await asyncio.to_thread(
            _cli, embed_env, "maintenance", "reconcile", "--dry-run", "--json"
        )
        assert dry.returncode == 1, dry.stdout + dry.stderr
        counts = json.loads(dry.stdout)["workspaces"]["big"]
        assert counts["vectorsMissing"] == after_kill["vectorsMissing"]
        # The next plain run (no reconcile) finishes the files and every vector.
        again = await asyncio.to_thread(_cli, embed_env, "index", str(root), "-w", "big")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "embeddings:" in again.stdout
        final = await _completeness(services, "big")
        assert final["lexicalMissing"] == 0 and final["vectorsMissing"] == 0, final
        assert final["stored"] >= 1200 * 4  # four per file, plus the project facts
        clean = await asyncio.to_thread(_cli, embed_env, "maintenance", "reconcile", "--dry-run")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "indexed 0, removed 0" in clean.stdout and "vectorsMissing 0" in clean.stdout
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await services.close()


def test_cli_waits_for_vectors_only_when_asked_or_when_nothing_else_will(
    embed_env: dict[str, str], tmp_path: Path
) -> None:
    root = generated_tree(tmp_path / "tree", 20)
    quick = _cli(embed_env, "index", str(root), "-w", "cli", "--no-wait-embeddings")
    assert quick.returncode == 0, quick.stderr
    assert re.search(
        r"searchable now \(lexically\); \d+ contexts wait for their vectors", quick.stdout
    )
    assert "the next `axon serve` or `axon index` computes them" in quick.stdout
    # Without REDIS_URL no worker would compute them: by default the CLI does, then returns.
    default = _cli(embed_env, "index", str(root), "-w", "cli")
    assert default.returncode == 0, default.stderr
    assert re.search(r"embeddings: \d+ contexts have their vectors \(\d+ computed", default.stdout)
    assert "wait for their vectors" not in default.stdout
    nothing = _cli(embed_env, "index", str(root), "-w", "cli")
    assert "embeddings:" not in nothing.stdout  # nothing left to embed


async def test_scan_job_hands_vectors_to_an_embed_job_and_the_api_shows_progress(
    embedding_services: Services, tmp_path: Path
) -> None:
    services = embedding_services
    root = generated_tree(tmp_path / "tree", 40)
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as client:
        created = await client.post(
            "/api/v1/workspaces", json={"id": "api", "name": "api", "path": str(root)}
        )
        assert created.status_code == 201, created.text
        scan = await client.post("/api/v1/workspaces/api/scan")
        job = await finished_job(client, scan.json()["jobId"])
        assert job["state"] == "succeeded", job
        result = job["result"]
        stored = await services.store.count_contexts(ContextFilter(workspace_id="api"))
        assert result["embeddings"]["total"] == stored and result["embeddings"]["pending"] > 0
        embed = await finished_job(client, result["embedJobId"])
        assert embed["kind"] == EMBED_JOB and embed["state"] == "succeeded", embed
        assert embed["result"]["embeddings"] == {"done": stored, "pending": 0, "total": stored}
        record = (await client.get("/api/v1/workspaces/api")).json()
        assert record["embeddings"] == {"done": stored, "pending": 0, "total": stored}
        health = (await client.get("/health")).json()
        assert health["embeddings"]["done"] >= stored and health["embeddings"]["pending"] == 0
        assert health["status"] == "ok" and "services" in health


def test_plain_progress_lines_when_stdout_is_not_a_terminal(
    embed_env: dict[str, str], tmp_path: Path
) -> None:
    root = generated_tree(tmp_path / "tree", 400)
    env = {**embed_env, "AXON_EMBEDDER": "none"}
    result = _cli(env, "index", str(root), "-w", "lines", "--progress-interval", "0.02")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("indexing lines: ")]
    counts = [int(re.match(r"indexing lines: (\d+)/(\d+) files", line)[1]) for line in lines]  # type: ignore[index]
    assert len(lines) >= 3, result.stdout
    assert counts == sorted(counts) and counts[-1] == 400
    assert all("files/s" in line and "ETA" in line for line in lines)
    # The counts move file by file, not a batch (64 files) at a time.
    assert any(0 < c < 400 and c % 64 for c in counts), counts
    assert "\x1b" not in result.stdout
