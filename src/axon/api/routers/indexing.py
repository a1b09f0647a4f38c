"""Start indexing a workspace: `POST /api/v1/workspaces/{id}/scan` answers 202 with a job."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from axon.api.deps import ServicesDep, WorkspaceIdPath, require_workspace
from axon.errors import Conflict, InvalidInput
from axon.indexing import SCAN_JOB
from axon.models import JobState
from axon.services import Services

router = APIRouter(prefix="/api/v1/workspaces", tags=["indexing"])


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool = False  # re-read every file and reconcile the search index


async def _running_scan(services: Services, workspace_id: str) -> str | None:
    for state in (JobState.QUEUED, JobState.RUNNING):
        cursor: str | None = None
        while True:
            page = await services.store.list_jobs(state, 200, cursor)
            for job in page.items:
                if job.kind == SCAN_JOB and job.workspace_id == workspace_id:
                    return job.id
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    return None


@router.post("/{workspace_id}/scan", status_code=202)
async def scan(
    workspace_id: WorkspaceIdPath,
    services: ServicesDep,
    body: Annotated[ScanRequest | None, Body()] = None,
) -> JSONResponse:
    """Index the workspace's folder in the background; poll `GET /api/v1/jobs/{jobId}`."""
    workspace = await require_workspace(services, workspace_id, field="id")
    if not workspace.path:
        raise InvalidInput.field("path", "the workspace has no folder; set its path first")
    if not await asyncio.to_thread(Path(workspace.path).is_dir):
        raise InvalidInput.field("path", f"the workspace folder does not exist: {workspace.path}")
    running = await _running_scan(services, workspace_id)
    if running is not None:
        raise Conflict(
            f"a scan of workspace '{workspace_id}' is already in progress (job {running})",
            code="SCAN_IN_PROGRESS",
            details=[{"field": "id", "message": f"job {running} is scanning this workspace"}],
        )
    params: dict[str, Any] = {"full": body.full if body else False}
    job = await services.jobs.submit(SCAN_JOB, params, workspace_id)
    payload = {
        "jobId": job.id,
        "kind": job.kind,
        "state": job.state,
        "workspaceId": workspace_id,
        "statusUrl": f"/api/v1/jobs/{job.id}",
    }
    return JSONResponse(payload, 202, headers={"Location": f"/api/v1/jobs/{job.id}"})
