"""`axon serve` warms search up before it says it is ready, then completes embeddings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest

from axon.config import Settings
from axon.models import Context, ContextType, Workspace, WorkspaceType, content_hash
from axon.services import build_services
from tests import servers


@pytest.mark.needs_model
async def test_readiness_waits_for_the_model_and_pending_embeddings_are_completed(
    settings: Settings,
) -> None:
    # A workspace whose contexts are indexed lexically only, as `axon index
    # --no-wait-embeddings` (or a killed run) leaves them.
    offline = await build_services(settings.model_copy(update={"embedder": "none"}))
    try:
        await offline.store.create_workspace(
            Workspace(id="warm", name="warm", type=WorkspaceType.CODING)
        )
        texts = [f"def handler_{n}(event):\n    return event.id + {n}\n" for n in range(5)]
        contexts = [
            Context(
                id=f"warm-{n}",
                workspace_id="warm",
                type=ContextType.SYMBOL,
                path=f"src/h{n}.py",
                symbol=f"handler_{n}",
                content=text,
                content_hash=content_hash(text),
            )
            for n, text in enumerate(texts)
        ]
        await offline.store.put_contexts(contexts)
        await offline.search_index.index(contexts)
    finally:
        await offline.close()

    # A real `axon serve` process with the default embedder (the local model), so the
    # start is cold: the model and its ONNX graph load in the background.
    port = servers.free_port()
    env = {**os.environ, "AXON_DATA_DIR": str(settings.data_dir), "LOG_LEVEL": "warning"}
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-c", "from axon.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.to_thread(servers.wait_for_port, port, 120)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            first = await http.get("/health/ready")
            # Not ready while the model loads, and the probe says why.
            assert first.status_code == 503, first.text
            body = first.json()
            assert body["ready"] is False and body["failing"] == ["search"]
            assert body["status"] == "unavailable" and "services" in body and "uptime" in body
            assert body["startup"]["state"] == "warming"
            deadline = time.monotonic() + 180
            while (ready := await http.get("/health/ready")).status_code != 200:
                assert time.monotonic() < deadline, ready.text
                await asyncio.sleep(0.1)
            health = ready.json()
            assert health["ready"] is True and health["startup"]["state"] == "ready"
            assert health["startup"]["seconds"] > 0
            # The contexts that waited for their vectors get them from an embed job.
            while True:
                record = (await http.get("/api/v1/workspaces/warm")).json()
                if record["embeddings"]["pending"] == 0:
                    break
                assert time.monotonic() < deadline, record
                await asyncio.sleep(0.1)
            assert record["embeddings"] == {"done": 5, "pending": 0, "total": 5}
            # The job writes the last vectors before it records its own end.
            while True:
                jobs = (await http.get("/api/v1/jobs")).json()["items"]
                if all(j["state"] not in ("queued", "running") for j in jobs):
                    break
                assert time.monotonic() < deadline, jobs
                await asyncio.sleep(0.1)
            assert [(j["kind"], j["workspaceId"], j["state"]) for j in jobs] == [
                ("embed", "warm", "succeeded")
            ]
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
