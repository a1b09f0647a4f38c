"""`POST /api/v1/workspaces/{id}/scan`: a background job with progress counts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.test_api_foundation import assert_error


async def finished_job(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    for _ in range(400):
        resp = await client.get(f"/api/v1/jobs/{job_id}")
        assert resp.status_code == 200, resp.text
        job: dict[str, Any] = resp.json()
        if job["state"] in {"succeeded", "failed", "cancelled"}:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


async def test_scan_runs_as_a_job_and_reports_counts(
    client: httpx.AsyncClient, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    (root / "image.png").write_bytes(b"\x89PNG\r\n")
    created = await client.post(
        "/api/v1/workspaces", json={"id": "proj", "name": "proj", "path": str(root)}
    )
    assert created.status_code == 201, created.text
    resp = await client.post("/api/v1/workspaces/proj/scan")
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["state"] == "queued" and body["workspaceId"] == "proj"
    assert resp.headers["location"] == f"/api/v1/jobs/{body['jobId']}"
    job = await finished_job(client, body["jobId"])
    assert job["state"] == "succeeded", job
    assert job["kind"] == "scan" and job["errors"] == []
    progress = job["progress"]
    assert progress["filesTotal"] == 18 and progress["filesSeen"] == 18
    assert progress["indexed"] == 18 and progress["unchanged"] == 0
    assert progress["skipped"] == {"binary": 1}
    assert progress["contextsWritten"] > 50
    assert job["result"]["workspaces"][0]["workspaceId"] == "proj"
    workspace = (await client.get("/api/v1/workspaces/proj")).json()
    assert workspace["lastIndexedAt"] is not None

    again = await client.post("/api/v1/workspaces/proj/scan", json={"full": True})
    assert again.status_code == 202
    rerun = await finished_job(client, again.json()["jobId"])
    assert rerun["state"] == "succeeded", rerun
    assert rerun["result"]["contextsWritten"] == 0  # re-read everything, nothing changed
    assert rerun["params"] == {"full": True}


async def test_scan_rejects_bad_requests(
    client: httpx.AsyncClient, tree: Callable[[str], Path], tmp_path: Path
) -> None:
    assert_error(await client.post("/api/v1/workspaces/nope/scan"), 404, "WORKSPACE_NOT_FOUND")
    await client.post("/api/v1/workspaces", json={"id": "nopath", "name": "n"})
    assert_error(
        await client.post("/api/v1/workspaces/nopath/scan"), 422, "VALIDATION_ERROR", "path"
    )
    gone = tmp_path / "gone"
    await client.post("/api/v1/workspaces", json={"id": "gone", "name": "g", "path": str(gone)})
    assert_error(await client.post("/api/v1/workspaces/gone/scan"), 422, "VALIDATION_ERROR", "path")
    root = tree("project")
    await client.post("/api/v1/workspaces", json={"id": "p", "name": "p", "path": str(root)})
    bad = await client.post("/api/v1/workspaces/p/scan", json={"full": "maybe"})
    assert_error(bad, 422, "VALIDATION_ERROR")
    unknown = await client.post("/api/v1/workspaces/p/scan", json={"depth": 3})
    assert_error(unknown, 422, "VALIDATION_ERROR")
    assert_error(await client.post("/api/v1/workspaces/bad id!/scan"), 422, "VALIDATION_ERROR")


async def test_second_scan_while_one_runs_is_a_conflict(
    client: httpx.AsyncClient, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    await client.post("/api/v1/workspaces", json={"id": "busy", "name": "b", "path": str(root)})
    first = await client.post("/api/v1/workspaces/busy/scan")
    assert first.status_code == 202
    # Indexing awaits the store many times, so the first job is still queued or running.
    second = await client.post("/api/v1/workspaces/busy/scan")
    assert_error(second, 409, "SCAN_IN_PROGRESS", "id")
    job = await finished_job(client, first.json()["jobId"])
    assert job["state"] == "succeeded"
    third = await client.post("/api/v1/workspaces/busy/scan")
    assert third.status_code == 202
    await finished_job(client, third.json()["jobId"])
