"""Workspaces as a REST resource; a key limited to some workspaces sees only those."""

from __future__ import annotations

from fastapi import APIRouter, Response

from axon.api.deps import (
    CursorQuery,
    LimitQuery,
    PrincipalDep,
    ServicesDep,
    WorkspaceIdPath,
    require_workspace,
)
from axon.api.responses import EmbeddingCounts, WorkspaceList, WorkspaceView, errors
from axon.errors import Forbidden, WorkspaceNotFound
from axon.folders import allowed_workspace_folder
from axon.models import Page, Workspace
from axon.services import Services
from axon.stores.pagination import decode_cursor, encode_cursor
from axon.workspaces import WorkspaceCreate, WorkspaceUpdate, create_workspace, update_workspace

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


@router.post("", status_code=201, responses=errors(409))
async def create(
    body: WorkspaceCreate, services: ServicesDep, principal: PrincipalDep
) -> Workspace:
    if not principal.can_access(body.id):
        raise Forbidden(
            "this API key may only create the workspaces it is limited to",
            code="WORKSPACE_FORBIDDEN",
            details=[{"field": "id", "message": "not one of this API key's workspaces"}],
        )
    if body.path is not None:
        body.path = allowed_workspace_folder(body.path, services.settings)
    return await create_workspace(services.store, body)


@router.get("")
async def list_all(
    services: ServicesDep,
    principal: PrincipalDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> WorkspaceList:
    if principal.workspaces is None:
        page = await services.store.list_workspaces(limit, cursor)
    else:
        page = await _own_workspaces(services, principal.workspaces, limit, cursor)
    return WorkspaceList(items=page.items, next_cursor=page.next_cursor)


async def _own_workspaces(
    services: Services, ids: frozenset[str], limit: int, cursor: str | None
) -> Page[Workspace]:
    """A restricted key's workspaces by id, read one by one: a key names a few."""
    after = decode_cursor(cursor)
    found: list[Workspace] = []
    for workspace_id in sorted(i for i in ids if after is None or i > after):
        workspace = await services.store.get_workspace(workspace_id)
        if workspace is None:
            continue
        if len(found) == limit:
            return Page[Workspace](items=found, next_cursor=encode_cursor(found[-1].id))
        found.append(workspace)
    return Page[Workspace](items=found, next_cursor=None)


@router.get("/{workspace_id}", responses=errors(404))
async def show(
    workspace_id: WorkspaceIdPath, services: ServicesDep, principal: PrincipalDep
) -> WorkspaceView:
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    # Read from the index itself, so it is right whichever process embeds.
    status = await services.search_index.embedding_status(workspace.id)
    return WorkspaceView(**dict(workspace), embeddings=EmbeddingCounts.of(status))


@router.patch("/{workspace_id}", responses=errors(404))
async def patch(
    workspace_id: WorkspaceIdPath,
    body: WorkspaceUpdate,
    services: ServicesDep,
    principal: PrincipalDep,
) -> Workspace:
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    if body.path is not None:
        body.path = allowed_workspace_folder(body.path, services.settings)
    return await update_workspace(services.store, workspace.id, body)


@router.delete("/{workspace_id}", status_code=204, responses=errors(404))
async def delete(
    workspace_id: WorkspaceIdPath, services: ServicesDep, principal: PrincipalDep
) -> Response:
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    if not await services.store.delete_workspace(workspace.id):
        raise WorkspaceNotFound(workspace.id, "id")  # removed meanwhile
    await services.search_index.remove_workspace(workspace.id)
    return Response(status_code=204)
