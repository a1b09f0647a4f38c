"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from axon.errors import Forbidden, NotFound
from axon.models import CONTEXT_ID_PATTERN, ID_PATTERN, ApiKey, ApiScope, Job, Workspace
from axon.quality.service import JOB_KIND as GATE_JOB_KIND
from axon.security.keys import allows
from axon.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def caller_key(request: Request) -> ApiKey | None:
    """The API key the request authenticated with; None when authentication is off."""
    key: ApiKey | None = request.scope.get("state", {}).get("api_key")
    return key


CallerKeyDep = Annotated[ApiKey | None, Depends(caller_key)]
# Jobs whose records hold a workspace's command output (a gate run's check output):
# reading them needs the scope that starts them, not just read.
_OUTPUT_SCOPES = {GATE_JOB_KIND: ApiScope.WRITE}


def may_read_output(job: Job, key: ApiKey | None) -> bool:
    needed = _OUTPUT_SCOPES.get(job.kind)
    return needed is None or key is None or allows(key, needed)


def require_output_scope(job: Job, key: ApiKey | None) -> None:
    if not may_read_output(job, key):
        needed = _OUTPUT_SCOPES[job.kind]
        raise Forbidden(
            f"reading a {job.kind} job's output needs the '{needed}' scope",
            details=[{"field": "scope", "message": f"needs '{needed}'"}],
        )


WorkspaceIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="workspace id")]
ContextIdPath = Annotated[str, Path(pattern=CONTEXT_ID_PATTERN, description="context id")]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="page size")]
CursorQuery = Annotated[str | None, Query(max_length=512, description="opaque cursor")]


async def require_workspace(
    services: Services, workspace_id: str, field: str = "workspaceId"
) -> Workspace:
    workspace = await services.store.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound(
            f"workspace '{workspace_id}' not found",
            code="WORKSPACE_NOT_FOUND",
            details=[{"field": field, "message": "no such workspace"}],
        )
    return workspace
