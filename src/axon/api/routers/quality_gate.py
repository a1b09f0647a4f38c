"""The quality gate: start a run (a job), read its result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import Field

from axon.api.deps import (
    CallerKeyDep,
    PrincipalDep,
    ServicesDep,
    require_output_scope,
    require_workspace,
)
from axon.api.responses import errors
from axon.errors import Forbidden, NotFound
from axon.models import ID_PATTERN, CamelModel, Job, JobState, UtcDatetime
from axon.quality.service import JOB_KIND, GateRequest, job_params, resolve_target
from axon.security.principal import Principal
from axon.services import Services

router = APIRouter(prefix="/api/v1/quality-gate", tags=["quality-gate"])

_FINISHED = {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}


class GateRun(CamelModel):
    """A run as the API shows it: the job's state and, once finished, the gate's result."""

    id: str
    job_id: str
    state: JobState
    workspace_id: str | None
    params: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any] | None = Field(description="the gate's report, once finished")
    errors: list[str]
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None


def run_view(job: Job) -> dict[str, Any]:
    """A run as the API shows it: the job's state and, once finished, the gate's result."""
    data = job.dump()
    fields = ("state", "workspaceId", "params", "progress", "result", "errors")
    times = ("createdAt", "startedAt", "finishedAt")
    return {"id": job.id, "jobId": job.id} | {k: data[k] for k in (*fields, *times)}


@router.post(
    "/execute",
    status_code=202,
    response_model=GateRun,
    responses={
        200: {"model": GateRun, "description": "With `wait: true`: the finished run"},
        **errors(404),
    },
)
async def execute(
    body: GateRequest, services: ServicesDep, principal: PrincipalDep
) -> JSONResponse:
    """Run the workspace's tests, linters and type checkers.

    Answers 202 with the run's id at once, or, with `wait: true`, the finished
    result (200) when it completes within AXON_GATE_WAIT_SECONDS.
    """
    job = await submit_run(body, services, principal)
    if body.wait:
        job = await services.jobs.wait(job.id, within=services.settings.gate_wait_seconds) or job
    done = job.state in _FINISHED
    location = f"/api/v1/quality-gate/runs/{job.id}"
    return JSONResponse(run_view(job), 200 if done else 202, headers={"Location": location})


async def submit_run(body: GateRequest, services: Services, principal: Principal) -> Job:
    """Queue a gate run of a workspace the caller may use (or, for an unrestricted
    caller, of a folder); the API and the dashboard start runs here."""
    workspace_id = body.workspace_id
    if workspace_id is not None:
        workspace_id = (await require_workspace(services, principal, workspace_id)).id
    elif principal.restricted:
        # A folder is nobody's workspace: only an unrestricted key may gate one.
        raise Forbidden(
            "this API key is limited to its workspaces: gate one by workspaceId",
            code="WORKSPACE_FORBIDDEN",
            details=[{"field": "workspacePath", "message": "not allowed for this API key"}],
        )
    target = await resolve_target(
        services.store, services.settings, workspace_id, body.workspace_path
    )
    workspace_id = target.workspace.id if target.workspace else None
    return await services.jobs.submit(JOB_KIND, job_params(body, target), workspace_id)


@router.get("/runs/{run_id}", response_model=GateRun, responses=errors(404))
async def show(
    run_id: Annotated[str, Path(pattern=ID_PATTERN)],
    services: ServicesDep,
    principal: PrincipalDep,
    key: CallerKeyDep,
) -> dict[str, Any]:
    job = await services.store.get_job(run_id)
    if job is None or job.kind != JOB_KIND or not principal.can_access(job.workspace_id):
        raise NotFound(f"quality gate run '{run_id}' not found", code="RUN_NOT_FOUND")
    require_output_scope(job, key)
    return run_view(job)
