"""The quality gate: runs with their verdict, each check's status, failing tests and
findings with file:line; start a run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from axon.api.deps import CallerKeyDep, PrincipalDep, ServicesDep
from axon.api.routers.quality_gate import show, submit_run
from axon.models import ID_PATTERN
from axon.quality.service import JOB_KIND, GateRequest
from axon.ui.guard import CsrfChecked, can_write, form_fields
from axon.ui.jobs import listed_jobs
from axon.ui.prompt import parsed
from axon.ui.render import page
from axon.workspaces import visible_workspaces

router = APIRouter(prefix="/ui", include_in_schema=False)
RECENT = 50
MAX_LISTED_WORKSPACES = 200


@router.get("/gate")
async def gate_page(
    request: Request, services: ServicesDep, principal: PrincipalDep, key: CallerKeyDep
) -> HTMLResponse:
    jobs = [j for j in await listed_jobs(services, principal, key, None) if j["kind"] == JOB_KIND]
    jobs.sort(key=lambda j: j["createdAt"], reverse=True)
    workspaces = await visible_workspaces(services.store, principal, MAX_LISTED_WORKSPACES)
    runs = [{"job": j, "status": (j.get("result") or {}).get("status")} for j in jobs[:RECENT]]
    return page(request, "gate.html", runs=runs, workspaces=workspaces, readable=can_write(key))


@router.post("/gate")
async def start(
    request: Request, services: ServicesDep, principal: PrincipalDep, checked: CsrfChecked
) -> RedirectResponse:
    fields = await form_fields(request)
    body: GateRequest = parsed(GateRequest, {"workspace_id": fields.get("workspace") or None})
    job = await submit_run(body, services, principal)
    return RedirectResponse(f"/ui/gate/{job.id}", status_code=303)


@router.get("/gate/{run_id}")
async def run_page(
    request: Request,
    run_id: Annotated[str, Path(pattern=ID_PATTERN)],
    services: ServicesDep,
    principal: PrincipalDep,
    key: CallerKeyDep,
) -> HTMLResponse:
    run: dict[str, Any] = await show(run_id, services, principal, key)
    finished = run["state"] in ("succeeded", "failed", "cancelled")
    return page(request, "gate_run.html", run=run, result=run.get("result"), finished=finished)
