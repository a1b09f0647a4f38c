"""Start indexing a workspace: `POST /api/v1/workspaces/{id}/scan` answers 202 with a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from axon.api.deps import PrincipalDep, ServicesDep, WorkspaceIdPath, require_workspace
from axon.api.responses import errors
from axon.indexing.job import start_scan
from axon.models import JobState

router = APIRouter(prefix="/api/v1/workspaces", tags=["indexing"])


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: StrictBool = False  # re-read every file and reconcile the search index


class ScanAccepted(BaseModel):
    job_id: str = Field(alias="jobId")
    kind: str
    state: JobState
    workspace_id: str = Field(alias="workspaceId")
    status_url: str = Field(alias="statusUrl", description="poll this for progress")


@router.post(
    "/{workspace_id}/scan",
    status_code=202,
    response_model=ScanAccepted,
    responses=errors(404, 409),
)
async def scan(
    workspace_id: WorkspaceIdPath,
    services: ServicesDep,
    principal: PrincipalDep,
    body: Annotated[ScanRequest | None, Body()] = None,
) -> JSONResponse:
    """Index the workspace's folder in the background; poll `GET /api/v1/jobs/{jobId}`."""
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    job = await start_scan(services, workspace, full=body.full if body else False)
    accepted = ScanAccepted(
        jobId=job.id,
        kind=job.kind,
        state=job.state,
        workspaceId=workspace_id,
        statusUrl=f"/api/v1/jobs/{job.id}",
    )
    return JSONResponse(
        accepted.model_dump(mode="json", by_alias=True),
        202,
        headers={"Location": accepted.status_url},
    )
