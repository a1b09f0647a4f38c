"""Contexts as a REST resource (hand-written decisions, conventions and notes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from axon.api.deps import (
    ContextIdPath,
    CursorQuery,
    LimitQuery,
    ServicesDep,
    require_workspace,
)
from axon.errors import NotFound
from axon.models import ID_PATTERN, ContextType, Tier
from axon.ports import ContextFilter
from axon.workspaces import ContextCreate, ContextUpdate, add_context, update_context

router = APIRouter(prefix="/api/v1/contexts", tags=["contexts"])


@router.post("", status_code=201)
async def create(body: ContextCreate, services: ServicesDep) -> dict[str, Any]:
    return (await add_context(services.store, body, services.search_index)).dump()


@router.get("")
async def list_all(
    services: ServicesDep,
    workspace_id: Annotated[str | None, Query(alias="workspaceId", pattern=ID_PATTERN)] = None,
    tier: Annotated[Tier | None, Query()] = None,
    type: Annotated[ContextType | None, Query()] = None,
    path: Annotated[str | None, Query(max_length=4096)] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    if workspace_id is not None:
        await require_workspace(services, workspace_id)
    flt = ContextFilter(
        workspace_id=workspace_id,
        tiers=[tier] if tier else None,
        types=[type] if type else None,
        path=path,
    )
    page = await services.store.list_contexts(flt, limit, cursor)
    return {"items": [c.dump() for c in page.items], "nextCursor": page.next_cursor}


@router.get("/{context_id}")
async def show(context_id: ContextIdPath, services: ServicesDep) -> dict[str, Any]:
    context = await services.store.get_context(context_id)
    if context is None:
        raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
    return context.dump()


@router.patch("/{context_id}")
async def patch(
    context_id: ContextIdPath, body: ContextUpdate, services: ServicesDep
) -> dict[str, Any]:
    return (await update_context(services.store, context_id, body, services.search_index)).dump()


@router.delete("/{context_id}", status_code=204)
async def delete(context_id: ContextIdPath, services: ServicesDep) -> Response:
    if not await services.store.delete_contexts([context_id]):
        raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
    await services.search_index.remove([context_id])
    return Response(status_code=204)
