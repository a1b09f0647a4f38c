"""Jobs: running and recent ones with their progress, and one job followed live."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from axon.api.deps import CallerKeyDep, PrincipalDep, ServicesDep
from axon.api.routers import jobs as jobs_api
from axon.models import ID_PATTERN, ApiKey, JobState
from axon.security.principal import Principal
from axon.services import Services
from axon.ui.render import page

router = APIRouter(prefix="/ui", include_in_schema=False)
RECENT = 50
SCANNED = 1000
FINISHED = {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}


def progress_of(job: dict[str, Any]) -> tuple[int, int] | None:
    """(done, total) of a job as the API dumps it: files for a scan, vectors for
    embeddings; None when it counts neither."""
    progress = job.get("progress") or {}
    if progress.get("filesTotal"):
        return int(progress.get("filesSeen", 0)), int(progress["filesTotal"])
    vectors = progress.get("embeddings") or {}
    if vectors.get("total"):
        return int(vectors.get("done", 0)), int(vectors["total"])
    return None


@router.get("/jobs")
async def jobs_page(
    request: Request, services: ServicesDep, principal: PrincipalDep, key: CallerKeyDep
) -> HTMLResponse:
    running: list[dict[str, Any]] = []
    for state in (JobState.RUNNING, JobState.QUEUED):
        running += await listed_jobs(services, principal, key, state)
    # Job ids are random, so the store's order says nothing of age: read a bounded
    # number of them and show the newest.
    recent = [
        j for j in await listed_jobs(services, principal, key, None) if j["state"] in FINISHED
    ]
    recent.sort(key=lambda j: j["createdAt"], reverse=True)
    return page(
        request,
        "jobs.html",
        running=[(j, progress_of(j)) for j in running],
        recent=[(j, progress_of(j)) for j in recent[:RECENT]],
        scanned=SCANNED,
    )


async def listed_jobs(
    services: Services, principal: Principal, key: ApiKey | None, state: JobState | None
) -> list[dict[str, Any]]:
    """Up to SCANNED jobs in `state` (None: any) as GET /api/v1/jobs lists them."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(found) < SCANNED:
        listing = await jobs_api.list_all(services, principal, state, 200, cursor, key)
        found += listing["items"]
        cursor = listing["nextCursor"]
        if cursor is None:
            break
    return found


@router.get("/jobs/{job_id}")
async def job_page(
    request: Request,
    job_id: Annotated[str, Path(pattern=ID_PATTERN)],
    services: ServicesDep,
    principal: PrincipalDep,
    key: CallerKeyDep,
) -> HTMLResponse:
    job = await jobs_api.show(job_id, services, principal, key)
    finished = job["state"] in FINISHED
    return page(request, "job.html", job=job, progress=progress_of(job), finished=finished)
