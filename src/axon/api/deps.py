"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from axon.errors import NotFound
from axon.models import CONTEXT_ID_PATTERN, ID_PATTERN, Workspace
from axon.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
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
