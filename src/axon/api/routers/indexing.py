"""Start indexing a workspace: `POST /api/v1/workspaces/{id}/scan` answers 202 with a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from axon.api.deps import PrincipalDep, ServicesDep, WorkspaceIdPath, require_workspace
from axon.indexing.job import start_scan

router = APIRouter(prefix="/api/v1/workspaces", tags=["indexing"])


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool = False  # re-read every file and reconcile the search index


@router.post("/{workspace_id}/scan", status_code=202)
async def scan(
    workspace_id: WorkspaceIdPath,
    services: ServicesDep,
    principal: PrincipalDep,
    body: Annotated[ScanRequest | None, Body()] = None,
) -> JSONResponse:
    """Index the workspace's folder in the background; poll `GET /api/v1/jobs/{jobId}`."""
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    job = await start_scan(services, workspace, full=body.full if body else False)
    payload = {
        "jobId": job.id,
        "kind": job.kind,
        "state": job.state,
        "workspaceId": workspace_id,
        "statusUrl": f"/api/v1/jobs/{job.id}",
    }
    return JSONResponse(payload, 202, headers={"Location": f"/api/v1/jobs/{job.id}"})
