"""Workspaces as a REST resource."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from axon.api.deps import CursorQuery, LimitQuery, ServicesDep, WorkspaceIdPath, require_workspace
from axon.errors import NotFound
from axon.folders import allowed_workspace_folder
from axon.workspaces import WorkspaceCreate, WorkspaceUpdate, create_workspace, update_workspace

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


@router.post("", status_code=201)
async def create(body: WorkspaceCreate, services: ServicesDep) -> dict[str, Any]:
    if body.path is not None:
        body.path = allowed_workspace_folder(body.path, services.settings)
    return (await create_workspace(services.store, body)).dump()


@router.get("")
async def list_all(
    services: ServicesDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> dict[str, Any]:
    page = await services.store.list_workspaces(limit, cursor)
    return {"items": [w.dump() for w in page.items], "nextCursor": page.next_cursor}


@router.get("/{workspace_id}")
async def show(workspace_id: WorkspaceIdPath, services: ServicesDep) -> dict[str, Any]:
    return (await require_workspace(services, workspace_id, field="id")).dump()


@router.patch("/{workspace_id}")
async def patch(
    workspace_id: WorkspaceIdPath, body: WorkspaceUpdate, services: ServicesDep
) -> dict[str, Any]:
    if body.path is not None:
        body.path = allowed_workspace_folder(body.path, services.settings)
    return (await update_workspace(services.store, workspace_id, body)).dump()


@router.delete("/{workspace_id}", status_code=204)
async def delete(workspace_id: WorkspaceIdPath, services: ServicesDep) -> Response:
    if not await services.store.delete_workspace(workspace_id):
        raise NotFound(f"workspace '{workspace_id}' not found", code="WORKSPACE_NOT_FOUND")
    await services.search_index.remove_workspace(workspace_id)
    return Response(status_code=204)
