"""Job status: state, progress counts, result and errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from axon.api.deps import (
    CallerKeyDep,
    CursorQuery,
    LimitQuery,
    PrincipalDep,
    ServicesDep,
    may_read_output,
    require_output_scope,
    visible_page,
)
from axon.api.responses import JobList, errors
from axon.errors import NotFound
from axon.models import ID_PATTERN, Job, JobState

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
# What a job list hides from a key that may not read a job's output.
_NO_OUTPUT: dict[str, Any] = {"result": None, "progress": {}, "errors": []}


@router.get("", response_model=JobList)
async def list_all(
    services: ServicesDep,
    principal: PrincipalDep,
    state: Annotated[JobState | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    key: CallerKeyDep = None,
) -> dict[str, Any]:
    page = await visible_page(
        lambda n, after: services.store.list_jobs(state, n, after),
        lambda job: principal.can_access(job.workspace_id),
        limit,
        cursor,
    )
    items = [
        j.dump() if may_read_output(j, key) else j.model_copy(update=_NO_OUTPUT).dump()
        for j in page.items
    ]
    return {"items": items, "nextCursor": page.next_cursor}


@router.get("/{job_id}", response_model=Job, responses=errors(404))
async def show(
    job_id: Annotated[str, Path(pattern=ID_PATTERN)],
    services: ServicesDep,
    principal: PrincipalDep,
    key: CallerKeyDep,
) -> dict[str, Any]:
    job = await services.store.get_job(job_id)
    if job is None or not principal.can_access(job.workspace_id):
        raise NotFound(f"job '{job_id}' not found", code="JOB_NOT_FOUND")
    require_output_scope(job, key)
    return job.dump()
